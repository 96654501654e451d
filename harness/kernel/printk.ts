// include/linux/printk.h, include/linux/dev_printk.h and WARN(): messages go to the event log,
// where reports quote them as the kernel would print them.
import type { Kernel } from './kernel.ts';
import type { device } from './base/device.ts';

export function dev_err(k: Kernel, dev: device | null, message: string): void {
  k.log.record({ type: 'printk', level: 'err', dev: dev?.name ?? null, message });
}
export function dev_warn(k: Kernel, dev: device | null, message: string): void {
  k.log.record({ type: 'printk', level: 'warn', dev: dev?.name ?? null, message });
}
export function dev_info(k: Kernel, dev: device | null, message: string): void {
  k.log.record({ type: 'printk', level: 'info', dev: dev?.name ?? null, message });
}
export function dev_dbg(k: Kernel, dev: device | null, message: string): void {
  k.log.record({ type: 'printk', level: 'dbg', dev: dev?.name ?? null, message });
}
export const pr_err = dev_err;
export const pr_info = dev_info;

/** WARN(): the kernel prints a backtrace and carries on; the harness reports it as a finding. */
export function WARN(k: Kernel, dev: device | null, message: string): void {
  k.log.record({ type: 'warn', dev: dev?.name ?? null, message });
}
