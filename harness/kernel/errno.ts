// include/uapi/asm-generic/errno-base.h, errno.h and include/linux/errno.h:
// the error numbers the model returns, negated as the C returns them.
export const EPERM = 1;
export const ENOENT = 2;
export const EIO = 5;
export const ENXIO = 6;
export const ENOMEM = 12;
export const EFAULT = 14;
export const EBUSY = 16;
export const EEXIST = 17;
export const ENODEV = 19;
export const EINVAL = 22;
export const ENOSPC = 28;
export const ERANGE = 34;
export const ENOSYS = 38;
export const EOPNOTSUPP = 95;
export const ETIMEDOUT = 110;
export const EPROBE_DEFER = 517;

const names: Record<number, string> = {
  [EPERM]: 'EPERM', [ENOENT]: 'ENOENT', [EIO]: 'EIO', [ENXIO]: 'ENXIO', [ENOMEM]: 'ENOMEM',
  [EFAULT]: 'EFAULT', [EBUSY]: 'EBUSY', [EEXIST]: 'EEXIST', [ENODEV]: 'ENODEV',
  [EINVAL]: 'EINVAL', [ENOSPC]: 'ENOSPC', [ERANGE]: 'ERANGE', [ENOSYS]: 'ENOSYS',
  [EOPNOTSUPP]: 'EOPNOTSUPP', [ETIMEDOUT]: 'ETIMEDOUT', [EPROBE_DEFER]: 'EPROBE_DEFER',
};

/** "-ENODEV" for -19, "0" for 0: how reports name a return code. */
export function errname(ret: number): string {
  if (ret >= 0) return String(ret);
  const name = names[-ret];
  return name ? `-${name}` : String(ret);
}

/** include/linux/err.h: a pointer-or-error is modelled as the object or a negative number. */
export type ErrPtr<T> = T | number;

export function IS_ERR<T>(p: ErrPtr<T>): p is number {
  return typeof p === 'number';
}
