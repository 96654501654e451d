// Simulated physical memory: page-aligned allocation, bottom-up and first fit, and the bytes
// that device DMA writes, kept sparsely per 4 KiB page.
export const PAGE_SIZE = 4096;

export interface Ram {
  base: number;
  size: number;
  /** free ranges [start, end), sorted by start */
  free: Array<{ start: number; end: number }>;
  /** live allocations: start page frame -> size (frame numbers are small integers, which a Map
   *  keys faster than addresses above 2^31) */
  allocated: Map<number, number>;
  pages: Map<number, Uint8Array>;
}

export function ram_init(base: number, size: number): Ram {
  return { base, size, free: [{ start: base, end: base + size }], allocated: new Map(), pages: new Map() };
}

function page_align(n: number): number {
  return Math.ceil(n / PAGE_SIZE) * PAGE_SIZE;
}

/** alloc_pages(): the lowest free range that fits, or -1 */
export function ram_alloc(ram: Ram, size: number): number {
  const len = page_align(size);
  for (let i = 0; i < ram.free.length; i++) {
    const r = ram.free[i]!;
    if (r.end - r.start < len) continue;
    const start = r.start;
    r.start += len;
    if (r.start === r.end) ram.free.splice(i, 1);
    ram.allocated.set(start / PAGE_SIZE, len);
    return start;
  }
  return -1;
}

/** free_pages(): give the range back, merging with its neighbours; false if not allocated */
export function ram_free(ram: Ram, start: number): boolean {
  const len = start % PAGE_SIZE === 0 ? ram.allocated.get(start / PAGE_SIZE) : undefined;
  if (len === undefined) return false;
  ram.allocated.delete(start / PAGE_SIZE);
  for (let p = start; p < start + len; p += PAGE_SIZE) ram.pages.delete(p / PAGE_SIZE);
  const end = start + len;
  let i = 0;
  while (i < ram.free.length && ram.free[i]!.start <= start) i++;
  // merge with the free range before and/or after it; a new range only between two in use
  const prev = ram.free[i - 1];
  const next = ram.free[i];
  if (prev && prev.end === start) {
    prev.end = end;
    if (next && next.start === end) { prev.end = next.end; ram.free.splice(i, 1); }
  } else if (next && next.start === end) {
    next.start = start;
  } else {
    ram.free.splice(i, 0, { start, end });
  }
  return true;
}

function ram_page(ram: Ram, phys: number): Uint8Array {
  const pfn = Math.floor(phys / PAGE_SIZE);
  let page = ram.pages.get(pfn);
  if (!page) { page = new Uint8Array(PAGE_SIZE); ram.pages.set(pfn, page); }
  return page;
}

export function ram_contains(ram: Ram, phys: number): boolean {
  return phys >= ram.base && phys < ram.base + ram.size;
}

export function ram_write8(ram: Ram, phys: number, value: number): void {
  ram_page(ram, phys)[phys % PAGE_SIZE] = value;
}

export function ram_read8(ram: Ram, phys: number): number {
  return ram.pages.get(Math.floor(phys / PAGE_SIZE))?.[phys % PAGE_SIZE] ?? 0;
}
