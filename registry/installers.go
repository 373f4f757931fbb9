package registry

// installers build each group's storage, in no particular order. Each
// group's installer lives in the file named after the group.
var installers = []func(*builder){
	installCore,
	installCoreWorkloads,
	installApps,
	installBatch,
	installAutoscaling,
	installCoordination,
	installDiscovery,
	installEvents,
	installPolicy,
	installScheduling,
	installNetworking,
	installNode,
	installStorage,
	installLinked, // last: it uses the storage the others built
}
