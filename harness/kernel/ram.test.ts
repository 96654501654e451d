// Simulated RAM (ram.ts): page-aligned, lowest-fit allocation and frees that merge with their
// neighbours, as the buddy allocator's free_pages() gives a range back whole. Not a model of
// mm/page_alloc.c's buddy lists: only what the replay needs of it.
import { describe, expect, it } from 'vitest';
import { PAGE_SIZE, ram_alloc, ram_free, ram_init } from './ram.ts';

const BASE = 0x80000000;

describe('ram_alloc / ram_free', () => {
  it('allocates whole pages bottom-up and refuses what does not fit', () => {
    const ram = ram_init(BASE, 4 * PAGE_SIZE);
    expect(ram_alloc(ram, 1)).toBe(BASE);
    expect(ram_alloc(ram, PAGE_SIZE + 1)).toBe(BASE + PAGE_SIZE);
    expect(ram_alloc(ram, 2 * PAGE_SIZE)).toBe(-1);
    expect(ram_alloc(ram, PAGE_SIZE)).toBe(BASE + 3 * PAGE_SIZE);
    expect(ram.free).toEqual([]);
  });

  it('a freed range merges with a free neighbour before, after, or both, and is reused lowest first', () => {
    const ram = ram_init(BASE, 8 * PAGE_SIZE);
    const a = [0, 1, 2, 3, 4].map(() => ram_alloc(ram, PAGE_SIZE));
    expect(ram_free(ram, a[1]!)).toBe(true); // between two in use: a range of its own
    expect(ram.free).toEqual([{ start: a[1], end: a[2] }, { start: BASE + 5 * PAGE_SIZE, end: BASE + 8 * PAGE_SIZE }]);
    ram_free(ram, a[2]!); // after a free one
    expect(ram.free[0]).toEqual({ start: a[1], end: a[3] });
    ram_free(ram, a[4]!); // before the free tail
    expect(ram.free[1]).toEqual({ start: a[4], end: BASE + 8 * PAGE_SIZE });
    ram_free(ram, a[3]!); // both: the three become one
    expect(ram.free).toEqual([{ start: a[1], end: BASE + 8 * PAGE_SIZE }]);
    expect(ram_alloc(ram, PAGE_SIZE)).toBe(a[1]);
  });

  it('refuses to free what is not allocated, or twice', () => {
    const ram = ram_init(BASE, 2 * PAGE_SIZE);
    const p = ram_alloc(ram, PAGE_SIZE);
    expect(ram_free(ram, p + 8)).toBe(false);
    expect(ram_free(ram, p)).toBe(true);
    expect(ram_free(ram, p)).toBe(false);
    expect(ram.allocated.size).toBe(0);
  });
});
