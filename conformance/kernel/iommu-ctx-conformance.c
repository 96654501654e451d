// SPDX-License-Identifier: GPL-2.0
/*
 * Conformance test for IOMMU context devices: built in, test only.
 *
 * Runs the cases of the project's conformance/cases.ts (compiled into
 * iommu-ctx-conformance-cases.h by conformance/gen-c.ts). Each case makes one
 * context device in one way and walks it through its steps; after every step
 * it prints one line
 *
 *   CONFORMANCE: {"case":..,"op":..,"ret":..,"group":..,"dev_iommu":..,...}
 *
 * with what the driver core and the IOMMU core left on the device. Markers
 * {"case":..,"phase":"begin"|"end"} frame the messages a case causes, and
 * {"done":true} ends the run. The host side (conformance/console.ts) turns the
 * lines into one record per case.
 *
 * The IOMMU context comes through the iommu-map of QEMU virt's PCIe host node
 * (iommu-map = <0 &smmuv3 0 0x10000>): input id N is SMMUv3 stream ID N.
 *
 * Cases with an smmu_register step run their first steps at
 * subsys_initcall_sync, after the IOMMU core registered its bus notifiers and
 * before the SMMUv3 driver probes (device_initcall); everything else runs at
 * late_initcall_sync, once the SMMU is bound.
 */
#define pr_fmt(fmt) "CONFORMANCE: " fmt

#include <linux/auxiliary_bus.h>
#include <linux/delay.h>
#include <linux/device.h>
#include <linux/dma-mapping.h>
#include <linux/host1x_context_bus.h>
#include <linux/init.h>
#include <linux/iommu.h>
#include <linux/of.h>
#include <linux/of_device.h>
#include <linux/of_platform.h>
#include <linux/platform_device.h>
#include <linux/slab.h>

enum conf_kind {
	CONF_LISTED_BUS, CONF_UNLISTED_BUS, CONF_AUXILIARY, CONF_PLATFORM,
	CONF_HOST1X_BUS, CONF_DT_SUBNODE,
};

enum conf_op {
	CONF_END, CONF_DRIVER_REGISTER, CONF_ADD, CONF_CONFIGURE,
	CONF_GROUP_REMOVE, CONF_SMMU_REGISTER, CONF_PARENT_UNBIND, CONF_DELETE,
	CONF_SID_REUSE, CONF_SID_REUSE_LISTED,
};

#define CONF_MAX_STEPS 8

struct conf_case {
	const char *name;
	enum conf_kind kind;
	u32 sid;
	bool dma_mask;
	bool bound_parent;
	const char *subnode_compatible;	/* dt-subnode: the parent node's compatible */
	enum conf_op steps[CONF_MAX_STEPS];
};

#include "iommu-ctx-conformance-cases.h"

static const char * const conf_op_name[] = {
	[CONF_END] = "end", [CONF_DRIVER_REGISTER] = "driver_register",
	[CONF_ADD] = "add", [CONF_CONFIGURE] = "configure",
	[CONF_GROUP_REMOVE] = "group_remove",
	[CONF_SMMU_REGISTER] = "smmu_register",
	[CONF_PARENT_UNBIND] = "parent_unbind", [CONF_DELETE] = "delete",
	[CONF_SID_REUSE] = "sid_reuse",
	[CONF_SID_REUSE_LISTED] = "sid_reuse_listed",
};

/* one observation; -1 in a field means "not touched by this step" (JSON null) */
struct conf_obs {
	int ret;
	bool has_ret;
	int group, dev_iommu, probe_group;
	const char *reuse;
};

/* a case in progress */
struct conf_run {
	const struct conf_case *c;
	struct device *dev;		/* the context device, one ref held */
	struct auxiliary_device *adev;
	struct platform_device *pdev;
	struct platform_device *parent;
	struct iommu_group *held;	/* the first group the device had */
	struct device_driver *drv;	/* registered by driver_register */
	bool parent_driver;
	int probe_group;
	int next;			/* index of the next step */
};

static struct device_node *conf_pcie_np;
static struct platform_device *conf_idle_parent;
static struct conf_run conf_runs[ARRAY_SIZE(conf_cases)];
static struct conf_run *conf_current;

/* ------------------------------------------------------------------------ */
/* the buses and drivers the cases use                                       */

struct conf_ctx {
	struct device dev;
	u32 sid;
	u64 dma_mask;
};

#define to_conf_ctx(d) container_of(d, struct conf_ctx, dev)

/* what the dma_context_bus and iris_vpu_bus designs put in .dma_configure */
static int conf_bus_dma_configure(struct device *dev)
{
	return of_dma_configure_id(dev, conf_pcie_np, true, &to_conf_ctx(dev)->sid);
}

/* listed in iommu_buses[] by iommu-ctx-conformance.patch */
const struct bus_type conformance_listed_bus_type = {
	.name = "conformance-listed",
	.dma_configure = conf_bus_dma_configure,
};

static const struct bus_type conformance_unlisted_bus_type = {
	.name = "conformance-unlisted",
	.dma_configure = conf_bus_dma_configure,
};

static int __init conf_buses_init(void)
{
	/* before iommu_subsys_init() (subsys_initcall) registers its notifiers */
	if (bus_register(&conformance_listed_bus_type) ||
	    bus_register(&conformance_unlisted_bus_type))
		pr_err("{\"abort\":\"bus_register failed\"}\n");
	return 0;
}
postcore_initcall(conf_buses_init);

static int conf_ctx_probe(struct device *dev)
{
	if (conf_current)
		conf_current->probe_group = !!dev->iommu_group;
	return 0;
}

static struct device_driver conf_listed_drv = {
	.name = "conformance-ctx", .bus = &conformance_listed_bus_type,
	.probe = conf_ctx_probe, .suppress_bind_attrs = true,
};

static struct device_driver conf_unlisted_drv = {
	.name = "conformance-ctx", .bus = &conformance_unlisted_bus_type,
	.probe = conf_ctx_probe, .suppress_bind_attrs = true,
};

static int conf_parent_probe(struct platform_device *pdev)
{
	return 0;
}

static struct platform_driver conf_parent_drv = {
	.probe = conf_parent_probe,
	.driver = { .name = "conformance-parent", .suppress_bind_attrs = true },
};

static void conf_ctx_release(struct device *dev)
{
	kfree(to_conf_ctx(dev));
}

struct conf_aux {
	struct auxiliary_device adev;
	u64 dma_mask;
};

static void conf_aux_release(struct device *dev)
{
	kfree(container_of(dev, struct conf_aux, adev.dev));
}

/* ------------------------------------------------------------------------ */
/* output                                                                     */

static const char *conf_tri(int v)
{
	return v < 0 ? "null" : v ? "true" : "false";
}

static void conf_print(const struct conf_run *r, enum conf_op op,
		       const struct conf_obs *o)
{
	char ret[16] = "null";

	if (o->has_ret)
		snprintf(ret, sizeof(ret), "%d", o->ret);
	pr_info("{\"case\":\"%s\",\"op\":\"%s\",\"ret\":%s,\"group\":%s,\"dev_iommu\":%s,\"probe_group\":%s,\"reuse\":%s%s%s}\n",
		r->c->name, conf_op_name[op], ret, conf_tri(o->group),
		conf_tri(o->dev_iommu), conf_tri(o->probe_group),
		o->reuse ? "\"" : "", o->reuse ? o->reuse : "null",
		o->reuse ? "\"" : "");
}

static void conf_phase(const struct conf_run *r, const char *phase)
{
	pr_info("{\"case\":\"%s\",\"phase\":\"%s\"}\n", r->c->name, phase);
}

/* ------------------------------------------------------------------------ */
/* the steps                                                                  */

static struct conf_ctx *conf_ctx_alloc(const struct bus_type *bus, u32 sid,
				       bool mask, struct device *parent)
{
	struct conf_ctx *ctx = kzalloc(sizeof(*ctx), GFP_KERNEL);

	if (!ctx)
		return NULL;
	ctx->sid = sid;
	device_initialize(&ctx->dev);
	if (mask) {
		ctx->dma_mask = DMA_BIT_MASK(38);
		ctx->dev.dma_mask = &ctx->dma_mask;
		ctx->dev.coherent_dma_mask = ctx->dma_mask;
	}
	ctx->dev.bus = bus;
	ctx->dev.parent = parent;
	ctx->dev.release = conf_ctx_release;
	dev_set_name(&ctx->dev, "%s.%x", bus->name, sid);
	return ctx;
}

static int conf_add_subnode(struct conf_run *r)
{
	struct platform_device_info info = {};
	struct device_node *pnp, *cnp;
	u32 sid = 0;

	pnp = of_find_compatible_node(NULL, NULL, r->c->subnode_compatible);
	cnp = pnp ? of_get_next_available_child(pnp, NULL) : NULL;
	of_node_put(pnp);
	if (!cnp)
		return -ENOENT;	/* QEMU was not booted with the kit's DT */
	of_property_read_u32_index(cnp, "iommus", 1, &sid);
	info.parent = &r->parent->dev;
	info.fwnode = of_fwnode_handle(cnp);
	info.name = "conformance-subnode";
	info.id = sid;
	info.dma_mask = DMA_BIT_MASK(38);
	r->pdev = platform_device_register_full(&info);
	of_node_put(cnp);
	if (IS_ERR(r->pdev)) {
		int ret = PTR_ERR(r->pdev);

		r->pdev = NULL;
		return ret;
	}
	r->dev = &r->pdev->dev;
	return 0;
}

static int conf_add(struct conf_run *r)
{
	const struct conf_case *c = r->c;
	struct device *parent = &r->parent->dev;
	struct conf_ctx *ctx;
	struct conf_aux *aux;
	int ret;

	switch (c->kind) {
	case CONF_LISTED_BUS:
	case CONF_UNLISTED_BUS:
	case CONF_HOST1X_BUS:
		ctx = conf_ctx_alloc(c->kind == CONF_LISTED_BUS ? &conformance_listed_bus_type :
				     c->kind == CONF_UNLISTED_BUS ? &conformance_unlisted_bus_type :
				     &host1x_context_device_bus_type, c->sid, c->dma_mask, parent);
		if (!ctx)
			return -ENOMEM;
		r->dev = &ctx->dev;
		ret = device_add(r->dev);
		break;
	case CONF_AUXILIARY:
		aux = kzalloc(sizeof(*aux), GFP_KERNEL);
		if (!aux)
			return -ENOMEM;
		r->adev = &aux->adev;
		r->adev->name = "ctx";
		r->adev->id = c->sid;
		r->adev->dev.parent = parent;
		r->adev->dev.release = conf_aux_release;
		r->dev = &r->adev->dev;
		if (c->dma_mask) {
			aux->dma_mask = DMA_BIT_MASK(38);
			r->dev->dma_mask = &aux->dma_mask;
			r->dev->coherent_dma_mask = aux->dma_mask;
		}
		ret = auxiliary_device_init(r->adev);
		if (ret) {
			kfree(aux);
			r->adev = NULL;
			r->dev = NULL;
			return ret;
		}
		ret = auxiliary_device_add(r->adev);
		break;
	case CONF_PLATFORM:
		r->pdev = platform_device_alloc("conformance-plat", c->sid);
		if (!r->pdev)
			return -ENOMEM;
		r->dev = &r->pdev->dev;
		ret = platform_device_add(r->pdev);
		break;
	case CONF_DT_SUBNODE:
		ret = conf_add_subnode(r);
		if (!ret)
			get_device(r->dev);
		return ret;
	default:
		return -EINVAL;
	}
	if (ret) {
		put_device(r->dev);
		r->dev = NULL;
		return ret;
	}
	get_device(r->dev);	/* keep the struct to look at it after delete */
	return 0;
}

static void conf_delete(struct conf_run *r)
{
	switch (r->c->kind) {
	case CONF_AUXILIARY:
		auxiliary_device_delete(r->adev);
		auxiliary_device_uninit(r->adev);
		break;
	case CONF_PLATFORM:
	case CONF_DT_SUBNODE:
		platform_device_unregister(r->pdev);
		break;
	default:
		device_unregister(r->dev);
		break;
	}
}

static const char *conf_reuse_of(struct conf_run *r, struct device *fresh)
{
	struct iommu_group *grp = fresh->iommu_group;

	return !grp ? "no-group" : grp == r->held ? "leaked-group" : "own-group";
}

/* a fresh platform device takes the stream ID by hand */
static void conf_sid_reuse(struct conf_run *r, struct conf_obs *o)
{
	struct platform_device *pdev;
	u32 sid = r->c->sid;

	pdev = platform_device_alloc("conformance-sid", sid);
	if (!pdev)
		return;
	o->has_ret = true;
	o->ret = platform_device_add(pdev);
	if (o->ret) {
		platform_device_put(pdev);
		return;
	}
	o->ret = of_dma_configure_id(&pdev->dev, conf_pcie_np, true, &sid);
	o->reuse = conf_reuse_of(r, &pdev->dev);
	/* a fresh device that joined a leaked group would leave it dangling */
	if (pdev->dev.iommu_group == r->held && r->held)
		get_device(&pdev->dev);
	platform_device_unregister(pdev);
}

/* a fresh device on the listed bus asks for the stream ID when it is added */
static void conf_sid_reuse_listed(struct conf_run *r, struct conf_obs *o)
{
	struct conf_ctx *ctx;

	ctx = conf_ctx_alloc(&conformance_listed_bus_type, r->c->sid, true,
			     &conf_idle_parent->dev);
	if (!ctx)
		return;
	dev_set_name(&ctx->dev, "conformance-listed.reuse%x", r->c->sid);
	o->has_ret = true;
	o->ret = device_add(&ctx->dev);
	if (o->ret) {
		put_device(&ctx->dev);
		return;
	}
	o->reuse = conf_reuse_of(r, &ctx->dev);
	if (ctx->dev.iommu_group == r->held && r->held)
		get_device(&ctx->dev);
	device_unregister(&ctx->dev);
}

static void conf_look(struct conf_run *r, struct conf_obs *o)
{
	if (!r->dev)
		return;
	o->group = !!r->dev->iommu_group;
	o->dev_iommu = !!r->dev->iommu;
	if (!r->held && r->dev->iommu_group)
		r->held = iommu_group_get(r->dev);
}

static void conf_step(struct conf_run *r, enum conf_op op)
{
	struct conf_obs o = { .group = -1, .dev_iommu = -1, .probe_group = -1 };
	u32 sid = r->c->sid;

	/* a device that could not be added has no later steps: all nulls */
	if (!r->dev && (op == CONF_CONFIGURE || op == CONF_GROUP_REMOVE || op == CONF_DELETE)) {
		conf_print(r, op, &o);
		return;
	}
	switch (op) {
	case CONF_DRIVER_REGISTER:
		r->drv = r->c->kind == CONF_LISTED_BUS ? &conf_listed_drv : &conf_unlisted_drv;
		o.has_ret = true;
		o.ret = driver_register(r->drv);
		if (o.ret)
			r->drv = NULL;
		break;
	case CONF_ADD:
		r->probe_group = -1;
		o.has_ret = true;
		o.ret = conf_add(r);
		o.probe_group = r->drv ? r->probe_group : -1;
		conf_look(r, &o);
		break;
	case CONF_CONFIGURE:
		o.has_ret = true;
		o.ret = of_dma_configure_id(r->dev, conf_pcie_np, true, &sid);
		conf_look(r, &o);
		break;
	case CONF_GROUP_REMOVE:
		iommu_group_remove_device(r->dev);
		conf_look(r, &o);
		break;
	case CONF_SMMU_REGISTER:
		/* the SMMU registered between the two phases */
		conf_look(r, &o);
		break;
	case CONF_PARENT_UNBIND:
		platform_driver_unregister(&conf_parent_drv);
		r->parent_driver = false;
		conf_look(r, &o);
		break;
	case CONF_DELETE:
		conf_delete(r);
		conf_look(r, &o);
		break;
	case CONF_SID_REUSE:
		conf_sid_reuse(r, &o);
		break;
	case CONF_SID_REUSE_LISTED:
		conf_sid_reuse_listed(r, &o);
		break;
	default:
		return;
	}
	conf_print(r, op, &o);
}

static void conf_setup(struct conf_run *r, const struct conf_case *c)
{
	r->c = c;
	r->parent = conf_idle_parent;
	if (c->bound_parent) {
		r->parent = platform_device_register_simple("conformance-parent", c->sid, NULL, 0);
		if (IS_ERR(r->parent)) {
			pr_err("{\"case\":\"%s\",\"abort\":\"parent %ld\"}\n", c->name, PTR_ERR(r->parent));
			r->parent = conf_idle_parent;
		}
		r->parent_driver = !platform_driver_register(&conf_parent_drv);
	}
}

static void conf_teardown(struct conf_run *r)
{
	bool leaked = r->dev && (r->dev->iommu_group || r->dev->iommu);

	if (r->drv)
		driver_unregister(r->drv);
	if (r->parent_driver)
		platform_driver_unregister(&conf_parent_drv);
	if (r->parent != conf_idle_parent)
		platform_device_unregister(r->parent);
	if (r->held)
		iommu_group_put(r->held);
	/* a leaked device keeps its last reference: its group must never
	 * point at freed memory */
	if (r->dev && !leaked)
		put_device(r->dev);
}

/* run the case's steps from r->next up to (not including) `until`, or to its end */
static void conf_run_steps(struct conf_run *r, enum conf_op until)
{
	conf_current = r;
	conf_phase(r, "begin");
	for (; r->next < CONF_MAX_STEPS && r->c->steps[r->next] != CONF_END; r->next++) {
		if (r->c->steps[r->next] == until)
			break;
		conf_step(r, r->c->steps[r->next]);
	}
	conf_phase(r, r->next < CONF_MAX_STEPS && r->c->steps[r->next] != CONF_END ? "pause" : "end");
	conf_current = NULL;
}

static bool conf_has_step(const struct conf_case *c, enum conf_op op)
{
	int i;

	for (i = 0; i < CONF_MAX_STEPS && c->steps[i] != CONF_END; i++)
		if (c->steps[i] == op)
			return true;
	return false;
}

static bool __init conf_find_nodes(void)
{
	conf_pcie_np = of_find_compatible_node(NULL, NULL, "pci-host-ecam-generic");
	if (!conf_pcie_np || !of_property_present(conf_pcie_np, "iommu-map")) {
		pr_err("{\"abort\":\"no pci-host-ecam-generic node with an iommu-map (start QEMU with -M virt,iommu=smmuv3)\"}\n");
		return false;
	}
	return true;
}

/* the cases that start before the SMMU registers */
static int __init conf_early(void)
{
	int i;

	if (!conf_find_nodes())
		return 0;
	conf_idle_parent = platform_device_register_simple("conformance-idle-parent", -1, NULL, 0);
	if (IS_ERR(conf_idle_parent)) {
		pr_err("{\"abort\":\"parent platform device %ld\"}\n", PTR_ERR(conf_idle_parent));
		conf_idle_parent = NULL;
		return 0;
	}
	for (i = 0; i < ARRAY_SIZE(conf_cases); i++) {
		if (!conf_has_step(&conf_cases[i], CONF_SMMU_REGISTER))
			continue;
		conf_setup(&conf_runs[i], &conf_cases[i]);
		conf_run_steps(&conf_runs[i], CONF_SMMU_REGISTER);
	}
	return 0;
}
subsys_initcall_sync(conf_early);

static bool __init conf_wait_for_smmu(void)
{
	struct device_node *np = of_find_compatible_node(NULL, NULL, "arm,smmu-v3");
	struct platform_device *pdev = NULL;
	int i;

	wait_for_device_probe();
	for (i = 0; np && i < 100; i++, msleep(100)) {
		pdev = of_find_device_by_node(np);
		if (pdev && pdev->dev.driver)
			break;
		if (pdev)
			put_device(&pdev->dev);
		pdev = NULL;
	}
	of_node_put(np);
	if (!pdev)
		return false;
	put_device(&pdev->dev);
	return true;
}

static int __init conf_late(void)
{
	int i;

	if (!conf_pcie_np || !conf_idle_parent)
		return 0;
	if (!conf_wait_for_smmu()) {
		pr_err("{\"abort\":\"the SMMUv3 driver did not bind\"}\n");
		return 0;
	}
	for (i = 0; i < ARRAY_SIZE(conf_cases); i++) {
		struct conf_run *r = &conf_runs[i];

		if (!r->c)
			conf_setup(r, &conf_cases[i]);
		conf_run_steps(r, CONF_END);
		conf_teardown(r);
	}
	pr_info("{\"done\":true}\n");
	return 0;
}
late_initcall_sync(conf_late);
