// The real-kernel half of `npm run conformance`: the tools it needs, Debian's linux-source-7.3
// fetched and unpacked, the kit's patch, test and config put into the tree, an arm64 Image
// built out of tree, and one boot under QEMU virt with an SMMUv3 whose console holds the
// observations. Everything it makes lives in the build directory, outside the checkout.
import { spawnSync, type SpawnSyncOptions } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CONFORMANCE_DIR } from './recorded.ts';
import { cases_header } from './gen-c.ts';
import { subnode_dts } from './model.ts';

export const KIT = join(CONFORMANCE_DIR, 'kernel');
export const PATCH = join(KIT, 'iommu-ctx-conformance.patch');
export const TEST_C = join(KIT, 'iommu-ctx-conformance.c');
export const CONFIG = join(KIT, 'conformance.config');

/** Debian's package of the kernel source, from trixie-backports */
export const DEBIAN_PACKAGE = 'linux-source-7.3';
const DEBIAN_SUITE = 'deb http://deb.debian.org/debian trixie-backports main';

export const QEMU_MACHINE = 'virt,iommu=smmuv3';
const QEMU_OPTS = ['-cpu', 'cortex-a57', '-smp', '1', '-m', '512'];

export class KitError extends Error {}

/** A command the kit runs, with the Debian package that provides it. */
const TOOLS: ReadonlyArray<[string, string]> = [
  ['aarch64-linux-gnu-gcc', 'gcc-aarch64-linux-gnu'],
  ['qemu-system-aarch64', 'qemu-system-arm'],
  ['dtc', 'device-tree-compiler'],
  ['flex', 'flex'], ['bison', 'bison'], ['bc', 'bc'], ['make', 'make'],
  ['patch', 'patch'], ['xz', 'xz-utils'],
];
/** A header the kernel's host tools include, with its package. */
const HEADERS: ReadonlyArray<[string, string]> = [
  ['/usr/include/openssl/ssl.h', 'libssl-dev'],
  ['/usr/include/libelf.h', 'libelf-dev'],
];

function on_path(cmd: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;
}

/** The packages missing for a build; the fetch needs apt-get and dpkg-deb besides. */
export function missing_packages(fetch: boolean): string[] {
  const tools: Array<[string, string]> = [...TOOLS];
  if (fetch) tools.push(['apt-get', 'apt'], ['dpkg-deb', 'dpkg']);
  const missing = tools.filter(([cmd]) => !on_path(cmd)).map(([, pkg]) => pkg);
  missing.push(...HEADERS.filter(([file]) => !existsSync(file)).map(([, pkg]) => pkg));
  return [...new Set(missing)];
}

function run(cmd: string, args: string[], opts: SpawnSyncOptions & { what: string }): void {
  const r = spawnSync(cmd, args, { stdio: 'inherit', ...opts });
  if (r.status !== 0) throw new KitError(`${opts.what} failed (${cmd} exited ${r.status ?? r.signal})`);
}

function output(cmd: string, args: string[]): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  return r.status === 0 ? r.stdout : '';
}

export const sha256 = (file: string) => createHash('sha256').update(readFileSync(file)).digest('hex');

/** Where the kit keeps the Debian package, the unpacked tree and the build. */
export interface BuildDirs { root: string; deb: string; src: string; out: string }

export function build_dirs(root: string, kernel_src: string | null): BuildDirs {
  // a tree of one's own builds apart from Debian's, so that switching never mixes objects
  const out = kernel_src ? `out-${createHash('sha256').update(kernel_src).digest('hex').slice(0, 8)}` : 'out';
  return { root, deb: join(root, 'deb'), src: kernel_src ?? join(root, 'linux'), out: join(root, out) };
}

/** Debian's linux-source-7.3 .deb, downloaded once through a private apt list, so the
 *  machine's own apt sources stay as they are. Returns the package's version. */
function fetch_deb(d: BuildDirs): string {
  mkdirSync(join(d.deb, 'lists', 'partial'), { recursive: true });
  const list = join(d.deb, 'sources.list');
  writeFileSync(list, `${DEBIAN_SUITE}\n`);
  const apt = ['-o', `Dir::Etc::SourceList=${list}`, '-o', 'Dir::Etc::SourceParts=/dev/null', '-o', `Dir::State::Lists=${join(d.deb, 'lists')}`];
  if (!deb_file(d)) {
    run('apt-get', [...apt, 'update'], { what: 'apt-get update (trixie-backports list)' });
    run('apt-get', [...apt, 'download', DEBIAN_PACKAGE], { cwd: d.deb, what: `apt-get download ${DEBIAN_PACKAGE}` });
  }
  const deb = deb_file(d);
  if (!deb) throw new KitError(`no ${DEBIAN_PACKAGE} package in ${d.deb} after the download`);
  return deb.replace(/^[^_]*_/, '').replace(/_all\.deb$/, '');
}

function deb_file(d: BuildDirs): string | null {
  return existsSync(d.deb) ? readdirSync(d.deb).find((f) => f.startsWith(`${DEBIAN_PACKAGE}_`) && f.endsWith('.deb')) ?? null : null;
}

/** The Debian package's version as recorded beside the unpacked tree */
const SOURCE_STAMP = '.conformance-source';

/** Fetch and unpack Debian's kernel source into d.src (unless it is there), then patch it. */
export function prepare_debian_source(d: BuildDirs): string {
  const stamp = join(d.src, SOURCE_STAMP);
  if (existsSync(stamp)) return readFileSync(stamp, 'utf8').trim();
  const version = fetch_deb(d);
  const deb = join(d.deb, deb_file(d)!);
  const tarball = `./usr/src/${DEBIAN_PACKAGE}.tar.xz`;
  run('sh', ['-c', `dpkg-deb --fsys-tarfile '${deb}' | tar -x -C '${d.deb}' '${tarball}'`], { what: 'unpacking the .deb' });
  rmSync(d.src, { recursive: true, force: true });
  rmSync(join(d.root, DEBIAN_PACKAGE), { recursive: true, force: true });
  run('tar', ['-xJf', join(d.deb, tarball), '-C', d.root], { what: 'unpacking the kernel source' });
  renameSync(join(d.root, DEBIAN_PACKAGE), d.src);
  rmSync(d.out, { recursive: true, force: true });
  apply_patch(d.src);
  const source = `Debian ${DEBIAN_PACKAGE} ${version}`;
  writeFileSync(stamp, `${source}\n`);
  return source;
}

/** Apply the kit's patch to a tree, unless it already carries it. */
export function apply_patch(src: string): void {
  const dry = (reverse: boolean) => spawnSync('patch', ['-p1', '--dry-run', '-s', '-f', ...(reverse ? ['-R'] : []), '-i', PATCH], { cwd: src, stdio: 'ignore' }).status === 0;
  if (dry(true)) return;
  if (!dry(false)) throw new KitError(`${PATCH} does not apply to ${src}: apply it by hand (patch -p1), then run again`);
  run('patch', ['-p1', '-s', '-i', PATCH], { cwd: src, what: 'applying the kit\'s patch' });
}

/** Write a file only when its text changed, so that make rebuilds only what did. */
function sync_file(path: string, text: string): void {
  if (!existsSync(path) || readFileSync(path, 'utf8') !== text) writeFileSync(path, text);
}

/** The test and its generated table into drivers/iommu/, the config into the build dir. */
export function configure(d: BuildDirs, make: string[]): void {
  if (!existsSync(join(d.src, 'Makefile'))) throw new KitError(`${d.src} is not a kernel tree (no Makefile)`);
  sync_file(join(d.src, 'drivers/iommu/iommu-ctx-conformance.c'), readFileSync(TEST_C, 'utf8'));
  sync_file(join(d.src, 'drivers/iommu/iommu-ctx-conformance-cases.h'), cases_header());
  mkdirSync(d.out, { recursive: true });
  const fragment = readFileSync(CONFIG, 'utf8');
  const stamp = join(d.out, '.conformance-config');
  if (existsSync(join(d.out, '.config')) && existsSync(stamp) && readFileSync(stamp, 'utf8') === fragment) return;
  run('make', [...make, 'allnoconfig'], { env: { ...process.env, KCONFIG_ALLCONFIG: CONFIG }, what: 'make allnoconfig with the fragment' });
  const config = readFileSync(join(d.out, '.config'), 'utf8');
  const lost = config_settings().filter((s) => !config.split('\n').includes(s));
  if (lost.length) throw new KitError(`the config fragment did not stick (${lost.join(', ')}): the tree lacks a symbol or its dependencies`);
  writeFileSync(stamp, fragment);
}

export function config_settings(): string[] {
  return readFileSync(CONFIG, 'utf8').split('\n').filter((l) => /^CONFIG_\w+=/.test(l));
}

export function make_args(d: BuildDirs): string[] {
  return ['-C', d.src, 'ARCH=arm64', 'CROSS_COMPILE=aarch64-linux-gnu-', `O=${d.out}`];
}

export function build(d: BuildDirs, jobs: number): void {
  run('nice', ['-n', '19', 'make', ...make_args(d), `-j${jobs}`, 'Image'], { what: 'the kernel build' });
}

/** QEMU's own device tree for the machine, plus the dt-subnode case's child node. */
function device_tree(d: BuildDirs): string {
  const dtb = join(d.out, 'virt.dtb');
  spawnSync('qemu-system-aarch64', ['-M', `${QEMU_MACHINE},dumpdtb=${dtb}`, ...QEMU_OPTS, '-nographic'], { stdio: 'ignore' });
  if (!existsSync(dtb)) throw new KitError('qemu-system-aarch64 did not dump its device tree');
  const dts = output('dtc', ['-q', '-I', 'dtb', '-O', 'dts', dtb]);
  const smmu = /smmuv3@[0-9a-f]+ \{[^}]*?phandle = <(0x[0-9a-f]+)>/.exec(dts);
  if (!smmu) throw new KitError('QEMU\'s device tree has no SMMUv3 node with a phandle');
  const end = dts.lastIndexOf('};');
  const out = join(d.out, 'virt-conformance.dtb');
  const r = spawnSync('dtc', ['-q', '-I', 'dts', '-O', 'dtb', '-o', out], { input: `${dts.slice(0, end)}${subnode_dts(`${smmu[1]}`)}\n};\n` });
  if (r.status !== 0) throw new KitError('dtc could not compile the device tree with the case\'s node');
  return out;
}

/** Boot the Image; the test runs during boot, then the kernel panics for want of a root file
 *  system and -no-reboot ends QEMU. Returns the console text. */
export function boot(d: BuildDirs, timeout_s: number): string {
  const log = join(d.out, 'console.log');
  const dtb = device_tree(d);
  rmSync(log, { force: true });
  spawnSync('qemu-system-aarch64', ['-M', QEMU_MACHINE, ...QEMU_OPTS, '-display', 'none', '-monitor', 'none',
    '-serial', `file:${log}`, '-no-reboot', '-dtb', dtb, '-kernel', join(d.out, 'arch/arm64/boot/Image'),
    '-append', 'console=ttyAMA0 panic=-1 loglevel=8'], { stdio: 'ignore', timeout: timeout_s * 1000 });
  return existsSync(log) ? readFileSync(log, 'utf8') : '';
}

export function qemu_version(): string {
  return output('qemu-system-aarch64', ['--version']).split('\n')[0]?.trim() ?? 'unknown';
}

export { QEMU_OPTS };
