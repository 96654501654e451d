// drivers/iommu/iova.c: the IOVA allocator dma-iommu puts in every DMA domain. Ranges of page
// frames live in a red-black tree ordered by pfn_lo, with an anchor node above the top of the
// space. Allocation walks backwards (top-down) from a cached node: cached32_node for limits in
// the low 4 GiB, cached_node above; the new range goes at the highest size-aligned spot that
// fits, and when that walk fails it retries once over the part above the cached node. Followed:
// current mainline: retry via iova_find_limit(), max32_alloc_size fail-fast, alloc_iova_fast()
// rounding sizes below 32 pages up to a power of two, and the rcache: free_iova_fast() parks
// ranges of up to 32 pages in per-size magazines (127 pfns each: a loaded and a previous one,
// then a depot) and alloc_iova_fast() takes them back newest first before searching the tree.
// One CPU; the depot's delayed trim (IOVA_DEPOT_DELAY) never runs (no clock); no flush queue.
//
// Data layout: the rbtree is kept in typed arrays indexed by node number (node 0 is the nil
// sentinel, node 1 the anchor) with a free list of node numbers, so 100,000 live ranges cost a
// few MB of flat arrays and no objects. Two shortcuts that change no result keep the usual
// patterns (map/unmap one buffer among many live ones, FIFO rings) flat in cost as the tree
// grows: the leftmost node is remembered (rb_prev of it is NIL without climbing to the root,
// what rb_root_cached does elsewhere in the kernel), and an open hash from pfn_lo to node
// answers free_iova(pfn_lo) before the root-down search the C does. What stays as in the C:
// with fragmented free space the downward walk is linear in the ranges it passes, which is why
// dma-iommu frees through the rcache (free_iova_fast). pfns are doubles: exact to 2^53.

/** IOVA_ANCHOR (~0UL): the anchor's pfn_lo and pfn_hi */
export const IOVA_ANCHOR = Number.MAX_SAFE_INTEGER;
/** IOVA_RANGE_CACHE_MAX_SIZE (iova.h): log2 of the largest cached range, in pages, plus one */
const IOVA_RANGE_CACHE_MAX_SIZE = 6;
/** IOVA_MAG_SIZE (iova.c) */
export const IOVA_MAG_SIZE = 127;

/** struct iova_magazine */
interface iova_magazine {
  size: number;
  pfns: Float64Array;
}

/** struct iova_rcache with its one iova_cpu_rcache */
interface iova_rcache {
  loaded: iova_magazine;
  prev: iova_magazine;
  /** full magazines, last pushed at the end */
  depot: iova_magazine[];
}

const NIL = 0;
const ANCHOR = 1;

/** struct iova: what find_iova() and reserve_iova() hand back */
export interface iova {
  pfn_lo: number;
  pfn_hi: number;
}

/** struct iova_domain */
export interface iova_domain {
  granule: number;
  start_pfn: number;
  dma_32bit_pfn: number;
  /** the size of the last failed allocation below 4 GiB: bigger ones fail at once */
  max32_alloc_size: number;
  cached_node: number;
  cached32_node: number;
  root: number;
  // the rbtree, one slot per node
  pfn_lo: Float64Array;
  pfn_hi: Float64Array;
  left: Int32Array;
  right: Int32Array;
  parent: Int32Array;
  red: Uint8Array;
  /** node numbers handed out so far (high-water mark) */
  nr_nodes: number;
  free_nodes: Int32Array;
  nr_free: number;
  /** ranges in the tree, the anchor not counted */
  live: number;
  /** the lowest node (the anchor when empty) */
  leftmost: number;
  /** pfn_lo -> node, 0 = empty slot; a slot is overwritten on collision (a miss falls back to the tree) */
  by_pfn: Int32Array;
  /** one per size order 0..5; allocated on the first free into them (the C allocates them in
   *  iova_domain_init_rcaches(): the model defers it, which changes no result and keeps a
   *  domain that never frees cheap to make) */
  rcaches: iova_rcache[] | null;
  /** ranges parked in the rcaches: still in the tree, but free as far as callers are concerned */
  rcached: number;
}

/** fls_long(): 1-based index of the highest set bit, 0 for 0 */
function fls_long(x: number): number {
  if (x < 2 ** 32) return 32 - Math.clz32(x);
  let n = 0;
  while (x >= 1) {
    x = Math.floor(x / 2);
    n++;
  }
  return n;
}

/** roundup_pow_of_two() */
export function roundup_pow_of_two(n: number): number {
  return 2 ** fls_long(n - 1);
}

/** iova_shift() (iova.h) */
export function iova_shift(iovad: iova_domain): number {
  return fls_long(iovad.granule) - 1;
}

/**
 * init_iova_domain() (iova.c): an empty tree holding only the anchor. As with the C's
 * alloc_iova_fast(), 0 means "no IOVA", so callers keep start_pfn >= 1 (dma-iommu does).
 */
export function init_iova_domain(granule: number, start_pfn: number, capacity = 0): iova_domain {
  const dma_32bit_pfn = 2 ** (32 - (fls_long(granule) - 1));
  return {
    granule, start_pfn, dma_32bit_pfn, max32_alloc_size: dma_32bit_pfn,
    cached_node: ANCHOR, cached32_node: ANCHOR, root: ANCHOR,
    nr_nodes: 2, nr_free: 0, live: 0, leftmost: ANCHOR,
    rcaches: null, rcached: 0,
    ...(capacity > 2 ? anchored(iova_node_arrays(roundup_pow_of_two(capacity))) : EMPTY_TREE),
  } satisfies iova_domain;
}

/** The per-node arrays for n nodes, and the pfn_lo index (two slots per node). */
function iova_node_arrays(n: number) {
  return {
    pfn_lo: new Float64Array(n), pfn_hi: new Float64Array(n),
    left: new Int32Array(n), right: new Int32Array(n), parent: new Int32Array(n), free_nodes: new Int32Array(n),
    by_pfn: new Int32Array(2 * n), red: new Uint8Array(n),
  };
}

function anchored<T extends { pfn_lo: Float64Array; pfn_hi: Float64Array }>(a: T): T {
  a.pfn_lo[ANCHOR] = IOVA_ANCHOR;
  a.pfn_hi[ANCHOR] = IOVA_ANCHOR;
  return a;
}

/**
 * The arrays of every domain that never held a range: nil and the anchor, full, so that the
 * first alloc_iova_mem() grows them into arrays of the domain's own before anything is
 * written (nothing writes a node's slots before a node is allocated). A run makes one IOVA
 * domain per context device and most of them never map a buffer: eight typed arrays each made
 * about 1.9 KB of every context (the C allocates nodes one by one from a kmem_cache; an empty
 * domain holds none).
 */
const EMPTY_TREE = anchored(iova_node_arrays(2));

/** How many ranges callers hold (reserved ones included, rcache-parked ones not). */
export function iova_domain_live(iovad: iova_domain): number {
  return iovad.live - iovad.rcached;
}

// --- node storage (alloc_iova_mem / free_iova_mem) ---------------------------------------------

/** Twice the nodes; the pfn_lo index is rebuilt at its new size. */
function grow(iovad: iova_domain): void {
  const a = iova_node_arrays(iovad.pfn_lo.length * 2);
  a.pfn_lo.set(iovad.pfn_lo);
  a.pfn_hi.set(iovad.pfn_hi);
  a.left.set(iovad.left);
  a.right.set(iovad.right);
  a.parent.set(iovad.parent);
  a.free_nodes.set(iovad.free_nodes);
  a.red.set(iovad.red);
  Object.assign(iovad, a);
  for (let n = iovad.leftmost; n !== NIL; n = rb_next(iovad, n)) if (n !== ANCHOR) iovad.by_pfn[by_pfn_slot(iovad, iovad.pfn_lo[n]!)] = n;
}

/** alloc_iova_mem() (iova.c) */
function alloc_iova_mem(iovad: iova_domain): number {
  if (iovad.nr_free > 0) return iovad.free_nodes[--iovad.nr_free]!;
  if (iovad.nr_nodes === iovad.pfn_lo.length) grow(iovad);
  return iovad.nr_nodes++;
}

/** free_iova_mem() (iova.c) */
function free_iova_mem(iovad: iova_domain, node: number): void {
  iovad.free_nodes[iovad.nr_free++] = node;
}

// --- the red-black tree (lib/rbtree.c's job, done the textbook way) ----------------------------

/** rb_prev() (lib/rbtree.c): the node just below, NIL if none */
function rb_prev(t: iova_domain, n: number): number {
  if (n === t.leftmost) return NIL;
  if (t.left[n] !== NIL) {
    n = t.left[n]!;
    while (t.right[n] !== NIL) n = t.right[n]!;
    return n;
  }
  let p = t.parent[n]!;
  while (p !== NIL && n === t.left[p]) {
    n = p;
    p = t.parent[p]!;
  }
  return p;
}

/** rb_next() (lib/rbtree.c): the node just above, NIL if none */
function rb_next(t: iova_domain, n: number): number {
  if (t.right[n] !== NIL) {
    n = t.right[n]!;
    while (t.left[n] !== NIL) n = t.left[n]!;
    return n;
  }
  let p = t.parent[n]!;
  while (p !== NIL && n === t.right[p]) {
    n = p;
    p = t.parent[p]!;
  }
  return p;
}

function rb_first(t: iova_domain): number {
  return t.leftmost;
}

// --- the pfn_lo index -------------------------------------------------------------------------

function by_pfn_slot(t: iova_domain, pfn: number): number {
  return pfn & (t.by_pfn.length - 1);
}

/** The index has two slots per node the arrays hold, so it grows with them (grow()). */
function by_pfn_insert(t: iova_domain, node: number): void {
  t.by_pfn[by_pfn_slot(t, t.pfn_lo[node]!)] = node;
}

function by_pfn_remove(t: iova_domain, node: number): void {
  const slot = by_pfn_slot(t, t.pfn_lo[node]!);
  if (t.by_pfn[slot] === node) t.by_pfn[slot] = NIL;
}

function rotate_left(t: iova_domain, x: number): void {
  const y = t.right[x]!;
  t.right[x] = t.left[y]!;
  if (t.left[y] !== NIL) t.parent[t.left[y]!] = x;
  replace_child(t, x, y);
  t.left[y] = x;
  t.parent[x] = y;
}

function rotate_right(t: iova_domain, x: number): void {
  const y = t.left[x]!;
  t.left[x] = t.right[y]!;
  if (t.right[y] !== NIL) t.parent[t.right[y]!] = x;
  replace_child(t, x, y);
  t.right[y] = x;
  t.parent[x] = y;
}

/** Put v where u hangs from u's parent (v's parent pointer follows, even for NIL). */
function replace_child(t: iova_domain, u: number, v: number): void {
  const p = t.parent[u]!;
  if (p === NIL) t.root = v;
  else if (u === t.left[p]) t.left[p] = v;
  else t.right[p] = v;
  t.parent[v] = p;
}

/** rb_insert_color() (lib/rbtree.c) */
function rb_insert_color(t: iova_domain, z: number): void {
  while (t.red[t.parent[z]!]) {
    const p = t.parent[z]!;
    const g = t.parent[p]!;
    if (p === t.left[g]) {
      const u = t.right[g]!;
      if (t.red[u]) {
        t.red[p] = 0; t.red[u] = 0; t.red[g] = 1;
        z = g;
      } else {
        if (z === t.right[p]) { z = p; rotate_left(t, z); }
        t.red[t.parent[z]!] = 0;
        t.red[t.parent[t.parent[z]!]!] = 1;
        rotate_right(t, t.parent[t.parent[z]!]!);
      }
    } else {
      const u = t.left[g]!;
      if (t.red[u]) {
        t.red[p] = 0; t.red[u] = 0; t.red[g] = 1;
        z = g;
      } else {
        if (z === t.left[p]) { z = p; rotate_right(t, z); }
        t.red[t.parent[z]!] = 0;
        t.red[t.parent[t.parent[z]!]!] = 1;
        rotate_left(t, t.parent[t.parent[z]!]!);
      }
    }
  }
  t.red[t.root] = 0;
}

/** rb_erase() (lib/rbtree.c): unlink z, relinking (never copying) so other node numbers stay valid */
function rb_erase(t: iova_domain, z: number): void {
  let y = z;
  let y_red = t.red[y]!;
  let x: number;
  if (t.left[z] === NIL) {
    x = t.right[z]!;
    replace_child(t, z, x);
  } else if (t.right[z] === NIL) {
    x = t.left[z]!;
    replace_child(t, z, x);
  } else {
    y = t.right[z]!;
    while (t.left[y] !== NIL) y = t.left[y]!;
    y_red = t.red[y]!;
    x = t.right[y]!;
    if (t.parent[y] === z) {
      t.parent[x] = y;
    } else {
      replace_child(t, y, x);
      t.right[y] = t.right[z]!;
      t.parent[t.right[y]!] = y;
    }
    replace_child(t, z, y);
    t.left[y] = t.left[z]!;
    t.parent[t.left[y]!] = y;
    t.red[y] = t.red[z]!;
  }
  if (!y_red) rb_erase_color(t, x);
  t.left[NIL] = NIL; t.right[NIL] = NIL; t.parent[NIL] = NIL; t.red[NIL] = 0;
}

function rb_erase_color(t: iova_domain, x: number): void {
  while (x !== t.root && !t.red[x]) {
    const p = t.parent[x]!;
    if (x === t.left[p]) {
      let w = t.right[p]!;
      if (t.red[w]) { t.red[w] = 0; t.red[p] = 1; rotate_left(t, p); w = t.right[p]!; }
      if (!t.red[t.left[w]!] && !t.red[t.right[w]!]) {
        t.red[w] = 1;
        x = p;
      } else {
        if (!t.red[t.right[w]!]) { t.red[t.left[w]!] = 0; t.red[w] = 1; rotate_right(t, w); w = t.right[p]!; }
        t.red[w] = t.red[p]!; t.red[p] = 0; t.red[t.right[w]!] = 0;
        rotate_left(t, p);
        x = t.root;
      }
    } else {
      let w = t.left[p]!;
      if (t.red[w]) { t.red[w] = 0; t.red[p] = 1; rotate_right(t, p); w = t.left[p]!; }
      if (!t.red[t.right[w]!] && !t.red[t.left[w]!]) {
        t.red[w] = 1;
        x = p;
      } else {
        if (!t.red[t.left[w]!]) { t.red[t.right[w]!] = 0; t.red[w] = 1; rotate_left(t, w); w = t.left[p]!; }
        t.red[w] = t.red[p]!; t.red[p] = 0; t.red[t.left[w]!] = 0;
        rotate_right(t, p);
        x = t.root;
      }
    }
  }
  t.red[x] = 0;
}

/** iova_insert_rbtree() (iova.c): descend from `start` (a node known to bound the spot) or the root */
function iova_insert_rbtree(t: iova_domain, node: number, start: number): boolean {
  let cur = start !== NIL ? start : t.root;
  let parent = NIL;
  const lo = t.pfn_lo[node]!;
  while (cur !== NIL) {
    parent = cur;
    if (lo < t.pfn_lo[cur]!) cur = t.left[cur]!;
    else if (lo > t.pfn_lo[cur]!) cur = t.right[cur]!;
    else return false; // WARN_ON(1): "this should not happen"
  }
  t.left[node] = NIL;
  t.right[node] = NIL;
  t.parent[node] = parent;
  t.red[node] = 1;
  if (parent === NIL) t.root = node;
  else if (lo < t.pfn_lo[parent]!) t.left[parent] = node;
  else t.right[parent] = node;
  if (lo < t.pfn_lo[t.leftmost]!) t.leftmost = node;
  rb_insert_color(t, node);
  t.live++;
  by_pfn_insert(t, node);
  return true;
}

// --- the allocator ----------------------------------------------------------------------------

/** __get_cached_rbnode() (iova.c) */
function __get_cached_rbnode(iovad: iova_domain, limit_pfn: number): number {
  return limit_pfn <= iovad.dma_32bit_pfn ? iovad.cached32_node : iovad.cached_node;
}

/** __cached_rbnode_insert_update() (iova.c) */
function __cached_rbnode_insert_update(iovad: iova_domain, node: number): void {
  if (iovad.pfn_hi[node]! < iovad.dma_32bit_pfn) iovad.cached32_node = node;
  else iovad.cached_node = node;
}

/** __cached_rbnode_delete_update() (iova.c): a cache at or below the freed range moves up past it */
function __cached_rbnode_delete_update(iovad: iova_domain, free: number): void {
  const next = rb_next(iovad, free);
  const lo = iovad.pfn_lo[free]!;
  const hi = iovad.pfn_hi[free]!;
  const c32 = iovad.cached32_node;
  if (free === c32 || (hi < iovad.dma_32bit_pfn && lo >= iovad.pfn_lo[c32]!)) iovad.cached32_node = next;
  if (lo < iovad.dma_32bit_pfn) iovad.max32_alloc_size = iovad.dma_32bit_pfn;
  if (lo >= iovad.pfn_lo[iovad.cached_node]!) iovad.cached_node = next;
}

/** iova_find_limit() (iova.c): where the retry walk starts, the lowest node at or above limit_pfn */
function iova_find_limit(iovad: iova_domain, limit_pfn: number): number {
  if (limit_pfn > iovad.dma_32bit_pfn) return ANCHOR;
  let node = iovad.root;
  while (iovad.pfn_hi[node]! < limit_pfn) node = iovad.right[node]!;
  for (;;) {
    while (iovad.left[node] !== NIL && iovad.pfn_lo[iovad.left[node]!]! >= limit_pfn) node = iovad.left[node]!;
    if (iovad.left[node] === NIL) return node;
    let next = iovad.left[node]!;
    let moved = false;
    while (iovad.right[next] !== NIL) {
      next = iovad.right[next]!;
      if (iovad.pfn_lo[next]! >= limit_pfn) {
        node = next;
        moved = true;
        break;
      }
    }
    if (!moved) return node;
  }
}

/**
 * __alloc_and_insert_iova_range() (iova.c): walk down from the cached node for the highest
 * spot below limit_pfn (exclusive) that fits `size` at the alignment asked; retry once over
 * the space above the cached node. Returns false (the C's -ENOMEM) when nothing fits.
 */
function __alloc_and_insert_iova_range(iovad: iova_domain, size: number, limit_pfn: number, node: number, size_aligned: boolean): boolean {
  const align = size_aligned ? 2 ** fls_long(size - 1) : 1;
  let high_pfn = limit_pfn;
  let low_pfn = iovad.start_pfn;
  if (limit_pfn <= iovad.dma_32bit_pfn && size >= iovad.max32_alloc_size) return false;
  let curr = __get_cached_rbnode(iovad, limit_pfn);
  const retry_pfn = iovad.pfn_hi[curr]! + 1;
  let prev = curr;
  let new_pfn = 0;
  let retried = false;
  for (;;) {
    do {
      high_pfn = Math.min(high_pfn, iovad.pfn_lo[curr]!);
      // (high_pfn - size) & align_mask; an unsigned underflow in the C never fits
      new_pfn = high_pfn >= size ? Math.floor((high_pfn - size) / align) * align : Infinity;
      prev = curr;
      curr = rb_prev(iovad, curr);
    } while (curr !== NIL && new_pfn <= iovad.pfn_hi[curr]! && new_pfn >= low_pfn);
    if (high_pfn >= size && new_pfn >= low_pfn) break;
    if (!retried && low_pfn === iovad.start_pfn && retry_pfn < limit_pfn) {
      retried = true;
      high_pfn = limit_pfn;
      low_pfn = retry_pfn;
      curr = iova_find_limit(iovad, limit_pfn);
      continue;
    }
    iovad.max32_alloc_size = size;
    return false;
  }
  iovad.pfn_lo[node] = new_pfn;
  iovad.pfn_hi[node] = new_pfn + size - 1;
  iova_insert_rbtree(iovad, node, prev);
  __cached_rbnode_insert_update(iovad, node);
  return true;
}

/**
 * alloc_iova() (iova.c): `size` page frames at or below limit_pfn (inclusive), top-down, never
 * below start_pfn, pfn_lo aligned to roundup_pow_of_two(size) when size_aligned. Returns pfn_lo,
 * or 0 when nothing fits.
 */
export function alloc_iova(iovad: iova_domain, size: number, limit_pfn: number, size_aligned: boolean): number {
  if (!(size >= 1)) return 0;
  const node = alloc_iova_mem(iovad);
  if (!__alloc_and_insert_iova_range(iovad, size, limit_pfn + 1, node, size_aligned)) {
    free_iova_mem(iovad, node);
    return 0;
  }
  return iovad.pfn_lo[node]!;
}

/**
 * alloc_iova_fast() (iova.c): sizes below 32 pages are rounded up to a power of two (so they
 * could go back to the rcache), then a size-aligned alloc_iova(). No rcache in the model, so
 * flush_rcache changes nothing. pfn_lo, or 0.
 */
export function alloc_iova_fast(iovad: iova_domain, size: number, limit_pfn: number, flush_rcache = true): number {
  if (size < 2 ** (IOVA_RANGE_CACHE_MAX_SIZE - 1)) size = roundup_pow_of_two(size);
  const cached = iova_rcache_get(iovad, size, limit_pfn + 1);
  if (cached) return cached;
  for (;;) {
    const pfn = alloc_iova(iovad, size, limit_pfn, true);
    if (pfn || !flush_rcache) return pfn;
    // Try replenishing IOVAs by flushing the rcache, once
    flush_rcache = false;
    free_cpu_cached_iovas(iovad);
    free_global_cached_iovas(iovad);
  }
}

/** private_find_iova() (iova.c): the node whose range holds pfn, NIL if none */
function private_find_iova(iovad: iova_domain, pfn: number): number {
  const hit = iovad.by_pfn[by_pfn_slot(iovad, pfn)]!;
  if (hit !== NIL && iovad.pfn_lo[hit] === pfn) return hit;
  let node = iovad.root;
  while (node !== NIL) {
    if (pfn < iovad.pfn_lo[node]!) node = iovad.left[node]!;
    else if (pfn > iovad.pfn_hi[node]!) node = iovad.right[node]!;
    else return node === ANCHOR ? NIL : node;
  }
  return NIL;
}

/** find_iova() (iova.c): the range holding pfn */
export function find_iova(iovad: iova_domain, pfn: number): iova | null {
  const node = private_find_iova(iovad, pfn);
  return node === NIL ? null : { pfn_lo: iovad.pfn_lo[node]!, pfn_hi: iovad.pfn_hi[node]! };
}

/** private_free_iova() (iova.c) */
function private_free_iova(iovad: iova_domain, node: number): void {
  __cached_rbnode_delete_update(iovad, node);
  by_pfn_remove(iovad, node);
  if (node === iovad.leftmost) iovad.leftmost = rb_next(iovad, node);
  rb_erase(iovad, node);
  iovad.live--;
  free_iova_mem(iovad, node);
}

/** free_iova() (iova.c): free the range holding pfn; false if there is none */
export function free_iova(iovad: iova_domain, pfn: number): boolean {
  const node = private_find_iova(iovad, pfn);
  if (node === NIL) return false;
  private_free_iova(iovad, node);
  return true;
}

/** free_iova_fast() (iova.c): park the range in the rcache, else free_iova() */
export function free_iova_fast(iovad: iova_domain, pfn: number, size: number): void {
  if (iova_rcache_insert(iovad, pfn, size)) return;
  free_iova(iovad, pfn);
}

/**
 * reserve_iova() (iova.c): keep [pfn_lo, pfn_hi] out of allocation, merging into ranges it
 * overlaps (dma-iommu reserves the SMMU's MSI window and the device's reserved regions this way).
 */
export function reserve_iova(iovad: iova_domain, pfn_lo: number, pfn_hi: number): iova | null {
  let overlap = false;
  for (let node = rb_first(iovad); node !== NIL; node = rb_next(iovad, node)) {
    if (pfn_lo <= iovad.pfn_hi[node]! && pfn_hi >= iovad.pfn_lo[node]!) {
      // __adjust_overlap_range()
      if (pfn_lo < iovad.pfn_lo[node]!) {
        by_pfn_remove(iovad, node);
        iovad.pfn_lo[node] = pfn_lo;
        iovad.by_pfn[by_pfn_slot(iovad, pfn_lo)] = node;
      }
      if (pfn_hi > iovad.pfn_hi[node]!) pfn_lo = iovad.pfn_hi[node]! + 1;
      if (pfn_lo >= iovad.pfn_lo[node]! && pfn_hi <= iovad.pfn_hi[node]!) {
        return { pfn_lo: iovad.pfn_lo[node]!, pfn_hi: iovad.pfn_hi[node]! };
      }
      overlap = true;
    } else if (overlap) {
      break;
    }
  }
  // __insert_new_range()
  const node = alloc_iova_mem(iovad);
  iovad.pfn_lo[node] = pfn_lo;
  iovad.pfn_hi[node] = pfn_hi;
  if (!iova_insert_rbtree(iovad, node, NIL)) {
    free_iova_mem(iovad, node);
    return null;
  }
  return { pfn_lo, pfn_hi };
}

/** put_iova_domain() (iova.c): every range goes */
export function put_iova_domain(iovad: iova_domain): void {
  free_iova_rcaches(iovad);
  for (let node = rb_first(iovad); node !== NIL && node !== ANCHOR; node = rb_first(iovad)) private_free_iova(iovad, node);
}

/** Every range in ascending order (tests and reports). */
export function iova_ranges(iovad: iova_domain): iova[] {
  const out: iova[] = [];
  for (let node = rb_first(iovad); node !== NIL; node = rb_next(iovad, node)) {
    if (node !== ANCHOR) out.push({ pfn_lo: iovad.pfn_lo[node]!, pfn_hi: iovad.pfn_hi[node]! });
  }
  return out;
}

// --- the rcache (iova.c "Magazine caches for IOVA ranges") -------------------------------------

/** order_base_2() */
function order_base_2(n: number): number {
  return fls_long(n - 1);
}

function iova_magazine_alloc(): iova_magazine {
  return { size: 0, pfns: new Float64Array(IOVA_MAG_SIZE) };
}

/** iova_magazine_free_pfns() (iova.c): the parked ranges go back to the tree */
function iova_magazine_free_pfns(iovad: iova_domain, mag: iova_magazine): void {
  for (let i = 0; i < mag.size; i++) {
    const node = private_find_iova(iovad, mag.pfns[i]!);
    if (node === NIL) continue; // WARN_ON(!iova)
    iovad.rcached--;
    private_free_iova(iovad, node);
  }
  mag.size = 0;
}

/** iova_magazine_pop() (iova.c): the newest pfn at or below limit_pfn, 0 if none */
function iova_magazine_pop(mag: iova_magazine, limit_pfn: number): number {
  let i = mag.size - 1;
  while (mag.pfns[i]! > limit_pfn) {
    if (i === 0) return 0;
    i--;
  }
  const pfn = mag.pfns[i]!;
  mag.pfns[i] = mag.pfns[--mag.size]!;
  return pfn;
}

/** __iova_rcache_insert() via iova_rcache_insert() (iova.c) */
function iova_rcache_insert(iovad: iova_domain, pfn: number, size: number): boolean {
  const log_size = order_base_2(size);
  if (log_size >= IOVA_RANGE_CACHE_MAX_SIZE) return false;
  iovad.rcaches ??= Array.from({ length: IOVA_RANGE_CACHE_MAX_SIZE }, () => ({ loaded: iova_magazine_alloc(), prev: iova_magazine_alloc(), depot: [] }));
  const rcache = iovad.rcaches[log_size]!;
  if (rcache.loaded.size === IOVA_MAG_SIZE) {
    if (rcache.prev.size < IOVA_MAG_SIZE) {
      [rcache.loaded, rcache.prev] = [rcache.prev, rcache.loaded];
    } else {
      rcache.depot.push(rcache.loaded); // iova_depot_push()
      rcache.loaded = iova_magazine_alloc();
    }
  }
  rcache.loaded.pfns[rcache.loaded.size++] = pfn;
  iovad.rcached++;
  return true;
}

/** __iova_rcache_get() via iova_rcache_get() (iova.c); limit_pfn is exclusive here */
function iova_rcache_get(iovad: iova_domain, size: number, limit_pfn: number): number {
  const log_size = order_base_2(size);
  if (log_size >= IOVA_RANGE_CACHE_MAX_SIZE || !iovad.rcaches) return 0;
  const rcache = iovad.rcaches[log_size]!;
  if (rcache.loaded.size === 0) {
    if (rcache.prev.size > 0) [rcache.loaded, rcache.prev] = [rcache.prev, rcache.loaded];
    else if (rcache.depot.length > 0) rcache.loaded = rcache.depot.pop()!; // iova_depot_pop()
    else return 0;
  }
  const pfn = iova_magazine_pop(rcache.loaded, limit_pfn - size);
  if (pfn) iovad.rcached--;
  return pfn;
}

/** free_cpu_cached_iovas() (iova.c) */
function free_cpu_cached_iovas(iovad: iova_domain): void {
  for (const rcache of iovad.rcaches ?? []) {
    iova_magazine_free_pfns(iovad, rcache.loaded);
    iova_magazine_free_pfns(iovad, rcache.prev);
  }
}

/** free_global_cached_iovas() (iova.c) */
function free_global_cached_iovas(iovad: iova_domain): void {
  for (const rcache of iovad.rcaches ?? []) {
    for (const mag of rcache.depot) iova_magazine_free_pfns(iovad, mag);
    rcache.depot = [];
  }
}

/** free_iova_rcaches() (iova.c): the magazines go; their ranges are freed with the tree */
function free_iova_rcaches(iovad: iova_domain): void {
  for (const rcache of iovad.rcaches ?? []) {
    rcache.loaded.size = 0;
    rcache.prev.size = 0;
    rcache.depot = [];
  }
  iovad.rcached = 0;
}
