package scheme

import (
	appsv1 "k8s.io/api/apps/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// addAppsDefaults registers the apps/v1 defaulters. ControllerRevision has no
// defaults upstream and gets none here.
func addAppsDefaults(s *runtime.Scheme) {
	addGroupDefaulter(s, defaultDeployment)
	addGroupDefaulter(s, func(l *appsv1.DeploymentList) { defaultEach(l.Items, defaultDeployment) })
	addGroupDefaulter(s, defaultReplicaSet)
	addGroupDefaulter(s, func(l *appsv1.ReplicaSetList) { defaultEach(l.Items, defaultReplicaSet) })
	addGroupDefaulter(s, defaultStatefulSet)
	addGroupDefaulter(s, func(l *appsv1.StatefulSetList) { defaultEach(l.Items, defaultStatefulSet) })
	addGroupDefaulter(s, defaultDaemonSet)
	addGroupDefaulter(s, func(l *appsv1.DaemonSetList) { defaultEach(l.Items, defaultDaemonSet) })
}

func defaultDeployment(d *appsv1.Deployment) {
	spec := &d.Spec
	if spec.Replicas == nil {
		spec.Replicas = new(int32(1))
	}
	if spec.Strategy.Type == "" {
		spec.Strategy.Type = appsv1.RollingUpdateDeploymentStrategyType
	}
	if spec.Strategy.Type == appsv1.RollingUpdateDeploymentStrategyType {
		if spec.Strategy.RollingUpdate == nil {
			spec.Strategy.RollingUpdate = &appsv1.RollingUpdateDeployment{}
		}
		ru := spec.Strategy.RollingUpdate
		if ru.MaxUnavailable == nil {
			ru.MaxUnavailable = new(intstr.FromString("25%"))
		}
		if ru.MaxSurge == nil {
			ru.MaxSurge = new(intstr.FromString("25%"))
		}
	}
	if spec.RevisionHistoryLimit == nil {
		spec.RevisionHistoryLimit = new(int32(10))
	}
	if spec.ProgressDeadlineSeconds == nil {
		spec.ProgressDeadlineSeconds = new(int32(600))
	}
	DefaultPodTemplateSpec(&spec.Template)
}

func defaultReplicaSet(rs *appsv1.ReplicaSet) {
	if rs.Spec.Replicas == nil {
		rs.Spec.Replicas = new(int32(1))
	}
	DefaultPodTemplateSpec(&rs.Spec.Template)
}

// defaultStatefulSet follows 1.37's gates: StatefulSetAutoDeletePVC (GA) and
// MaxUnavailableStatefulSet (beta, on) both take part.
func defaultStatefulSet(ss *appsv1.StatefulSet) {
	spec := &ss.Spec
	if spec.PodManagementPolicy == "" {
		spec.PodManagementPolicy = appsv1.OrderedReadyPodManagement
	}
	// A rollingUpdate block is only created when the type itself was
	// defaulted; an explicit RollingUpdate type without the block keeps it nil.
	if spec.UpdateStrategy.Type == "" {
		spec.UpdateStrategy.Type = appsv1.RollingUpdateStatefulSetStrategyType
		if spec.UpdateStrategy.RollingUpdate == nil {
			spec.UpdateStrategy.RollingUpdate = &appsv1.RollingUpdateStatefulSetStrategy{}
		}
	}
	if ru := spec.UpdateStrategy.RollingUpdate; ru != nil &&
		spec.UpdateStrategy.Type == appsv1.RollingUpdateStatefulSetStrategyType {
		if ru.Partition == nil {
			ru.Partition = new(int32(0))
		}
		if ru.MaxUnavailable == nil {
			ru.MaxUnavailable = new(intstr.FromInt32(1))
		}
	}
	retention := spec.PersistentVolumeClaimRetentionPolicy
	if retention == nil {
		retention = &appsv1.StatefulSetPersistentVolumeClaimRetentionPolicy{}
		spec.PersistentVolumeClaimRetentionPolicy = retention
	}
	if retention.WhenDeleted == "" {
		retention.WhenDeleted = appsv1.RetainPersistentVolumeClaimRetentionPolicyType
	}
	if retention.WhenScaled == "" {
		retention.WhenScaled = appsv1.RetainPersistentVolumeClaimRetentionPolicyType
	}
	if spec.Replicas == nil {
		spec.Replicas = new(int32(1))
	}
	if spec.RevisionHistoryLimit == nil {
		spec.RevisionHistoryLimit = new(int32(10))
	}
	DefaultPodTemplateSpec(&spec.Template)
	defaultEach(spec.VolumeClaimTemplates, DefaultPersistentVolumeClaim)
}

func defaultDaemonSet(ds *appsv1.DaemonSet) {
	spec := &ds.Spec
	if spec.UpdateStrategy.Type == "" {
		spec.UpdateStrategy.Type = appsv1.RollingUpdateDaemonSetStrategyType
	}
	if spec.UpdateStrategy.Type == appsv1.RollingUpdateDaemonSetStrategyType {
		if spec.UpdateStrategy.RollingUpdate == nil {
			spec.UpdateStrategy.RollingUpdate = &appsv1.RollingUpdateDaemonSet{}
		}
		ru := spec.UpdateStrategy.RollingUpdate
		if ru.MaxUnavailable == nil {
			ru.MaxUnavailable = new(intstr.FromInt32(1))
		}
		if ru.MaxSurge == nil {
			ru.MaxSurge = new(intstr.FromInt32(0))
		}
	}
	if spec.RevisionHistoryLimit == nil {
		spec.RevisionHistoryLimit = new(int32(10))
	}
	DefaultPodTemplateSpec(&spec.Template)
}
