package scheme

import (
	corev1 "k8s.io/api/core/v1"
	storagev1 "k8s.io/api/storage/v1"
	"k8s.io/apimachinery/pkg/runtime"
)

// addStorageDefaults registers the storage.k8s.io/v1 defaulters. CSINode,
// CSIStorageCapacity and VolumeAttributesClass have no defaults upstream.
func addStorageDefaults(s *runtime.Scheme) {
	addGroupDefaulter(s, defaultStorageClass)
	addGroupDefaulter(s, func(l *storagev1.StorageClassList) { defaultEach(l.Items, defaultStorageClass) })
	addGroupDefaulter(s, defaultCSIDriver)
	addGroupDefaulter(s, func(l *storagev1.CSIDriverList) { defaultEach(l.Items, defaultCSIDriver) })
	addGroupDefaulter(s, defaultVolumeAttachment)
	addGroupDefaulter(s, func(l *storagev1.VolumeAttachmentList) { defaultEach(l.Items, defaultVolumeAttachment) })
}

func defaultStorageClass(sc *storagev1.StorageClass) {
	if sc.ReclaimPolicy == nil {
		sc.ReclaimPolicy = new(corev1.PersistentVolumeReclaimDelete)
	}
	if sc.VolumeBindingMode == nil {
		sc.VolumeBindingMode = new(storagev1.VolumeBindingImmediate)
	}
}

// defaultCSIDriver follows 1.37's gates: SELinuxMountReadWriteOncePod is on,
// so seLinuxMount is defaulted too. Fields behind other gates
// (nodeAllocatableUpdatePeriodSeconds, serviceAccountTokenInSecrets,
// preventPodSchedulingIfMissing) have no default.
func defaultCSIDriver(d *storagev1.CSIDriver) {
	spec := &d.Spec
	if spec.AttachRequired == nil {
		spec.AttachRequired = new(true)
	}
	if spec.PodInfoOnMount == nil {
		spec.PodInfoOnMount = new(false)
	}
	if spec.StorageCapacity == nil {
		spec.StorageCapacity = new(false)
	}
	if spec.FSGroupPolicy == nil {
		spec.FSGroupPolicy = new(storagev1.ReadWriteOnceWithFSTypeFSGroupPolicy)
	}
	if len(spec.VolumeLifecycleModes) == 0 {
		spec.VolumeLifecycleModes = []storagev1.VolumeLifecycleMode{storagev1.VolumeLifecyclePersistent}
	}
	if spec.RequiresRepublish == nil {
		spec.RequiresRepublish = new(false)
	}
	if spec.SELinuxMount == nil {
		spec.SELinuxMount = new(false)
	}
}

// defaultVolumeAttachment defaults the inline PersistentVolumeSpec a migrated
// in-tree volume carries, the way core defaults the same sources in a
// PersistentVolume.
func defaultVolumeAttachment(va *storagev1.VolumeAttachment) {
	pv := va.Spec.Source.InlineVolumeSpec
	if pv == nil {
		return
	}
	DefaultResourceList(&pv.Capacity)
	src := &pv.PersistentVolumeSource
	if src.HostPath != nil && src.HostPath.Type == nil {
		src.HostPath.Type = new(corev1.HostPathUnset)
	}
	if rbd := src.RBD; rbd != nil {
		if rbd.RBDPool == "" {
			rbd.RBDPool = "rbd"
		}
		if rbd.RadosUser == "" {
			rbd.RadosUser = "admin"
		}
		if rbd.Keyring == "" {
			rbd.Keyring = "/etc/ceph/keyring"
		}
	}
	if src.ISCSI != nil && src.ISCSI.ISCSIInterface == "" {
		src.ISCSI.ISCSIInterface = "default"
	}
	if az := src.AzureDisk; az != nil {
		if az.CachingMode == nil {
			az.CachingMode = new(corev1.AzureDataDiskCachingReadWrite)
		}
		if az.Kind == nil {
			az.Kind = new(corev1.AzureSharedBlobDisk)
		}
		if az.FSType == nil {
			az.FSType = new("ext4")
		}
		if az.ReadOnly == nil {
			az.ReadOnly = new(false)
		}
	}
	if sio := src.ScaleIO; sio != nil {
		if sio.StorageMode == "" {
			sio.StorageMode = "ThinProvisioned"
		}
		if sio.FSType == "" {
			sio.FSType = "xfs"
		}
	}
}
