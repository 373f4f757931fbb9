// Package scheduler is Capstan's pod scheduler: it places pods that name
// this scheduler (spec.schedulerName, "default-scheduler" by default) and
// no node, one at a time, on the node its plugins find best, and binds
// them through pods/binding. It follows upstream kube-scheduler's
// behaviour, not its code:
//
//   - Shared informers on pods (terminal ones excluded) and nodes feed a
//     cache of what runs where (scheduler/cache) and a queue of pods to
//     place (scheduler/queue): active, backing off (1s doubling to 10s),
//     and unschedulable until a node or pod event that one of the plugins
//     that rejected the pod registered may help, or for 60 seconds.
//   - Each cycle filters the nodes (in parallel, stopping once enough
//     fit), scores the feasible ones, assumes the pod onto the best node in
//     the cache and binds it asynchronously, so that the next pods see the
//     node's resources as taken.
//   - A pod that fits nowhere gets the PodScheduled=False condition with
//     reason Unschedulable and a FailedScheduling event, both carrying
//     upstream's message ("0/3 nodes are available: 1 Insufficient cpu,
//     2 node(s) had untolerated taint(s). preemption: 0/3 nodes are
//     available: 1 No preemption victims found for incoming pod, 2
//     Preemption is not helpful for scheduling.").
//   - Several servers compete for the kube-system/kube-scheduler Lease; only
//     the holder schedules.
//
// The plugins (scheduler/plugins, one package each, default profile in
// plugins.DefaultProfile) are SchedulingGates, NodeName, NodeUnschedulable,
// TaintToleration, NodeAffinity, NodePorts, NodeResourcesFit,
// InterPodAffinity, PodTopologySpread, DefaultPreemption (evaluation
// only), NodeResourcesBalancedAllocation and ImageLocality.
//
// TODO:
//   - Preemption: DefaultPreemption finds whether evicting lower-priority
//     pods would make room, for the failure message, but evicts nothing and
//     nominates no node.
//   - PodTopologySpread applies only the pod's own constraints, not
//     upstream's system defaults for pods of Services and workloads (which
//     only affect scoring).
//   - Volume plugins (VolumeBinding, VolumeRestrictions, VolumeZone,
//     NodeVolumeLimits) and DynamicResources: pods with PVCs are placed
//     without regard to volume topology or attach limits.
//   - Reserve/Permit/PreBind/Bind extension points (binding is built in),
//     extenders, several profiles, and a configuration file (a Config may
//     replace the default profile in code).
//   - Events go to core/v1 (tools/record) rather than events.k8s.io/v1,
//     because Capstan stores the two separately and kubectl describe and
//     e2e.test read core/v1.
package scheduler
