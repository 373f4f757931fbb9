package pod

import (
	"fmt"
	"path"
	"path/filepath"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	apimachineryvalidation "k8s.io/apimachinery/pkg/api/validation"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	metavalidation "k8s.io/apimachinery/pkg/apis/meta/v1/validation"
	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/capstan-dev/capstan/registry/validate"
)

// validateVolumes checks every volume and returns the valid ones by name.
func validateVolumes(volumes []corev1.Volume, meta *metav1.ObjectMeta, fldPath *field.Path) (map[string]corev1.VolumeSource, field.ErrorList) {
	var errs field.ErrorList
	names := sets.New[string]()
	createdPVCs := sets.New[string]()
	if meta != nil && meta.Name != "" {
		for _, v := range volumes {
			if v.Ephemeral != nil {
				createdPVCs.Insert(meta.Name + "-" + v.Name)
			}
		}
	}
	vols := map[string]corev1.VolumeSource{}
	for i, v := range volumes {
		p := fldPath.Index(i)
		namePath := p.Child("name")
		el := validateVolumeSource(&v.VolumeSource, p, v.Name, meta)
		if v.Name == "" {
			el = append(el, field.Required(namePath, ""))
		} else {
			el = append(el, dnsLabel(v.Name, namePath)...)
		}
		if names.Has(v.Name) {
			el = append(el, field.Duplicate(namePath, v.Name))
		}
		if len(el) == 0 {
			names.Insert(v.Name)
			vols[v.Name] = v.VolumeSource
		} else {
			errs = append(errs, el...)
		}
		if v.PersistentVolumeClaim != nil && createdPVCs.Has(v.PersistentVolumeClaim.ClaimName) {
			errs = append(errs, field.Invalid(p.Child("persistentVolumeClaim", "claimName"), v.PersistentVolumeClaim.ClaimName,
				"must not reference a PVC that gets created for an ephemeral volume"))
		}
	}
	return vols, errs
}

// volumeType is one member of VolumeSource, in upstream's checking order.
type volumeType struct {
	name     string // field name, used for the "more than 1" error
	set      func(*corev1.VolumeSource) bool
	validate func(src *corev1.VolumeSource, p *field.Path, volName string, meta *metav1.ObjectMeta) field.ErrorList
}

func required(p *field.Path, pairs ...string) field.ErrorList {
	var errs field.ErrorList
	for i := 0; i+1 < len(pairs); i += 2 {
		if pairs[i+1] == "" {
			errs = append(errs, field.Required(p.Child(pairs[i]), ""))
		}
	}
	return errs
}

var volumeTypes = []volumeType{
	{"emptyDir", func(s *corev1.VolumeSource) bool { return s.EmptyDir != nil }, func(s *corev1.VolumeSource, p *field.Path, _ string, _ *metav1.ObjectMeta) field.ErrorList {
		if s.EmptyDir.SizeLimit != nil && s.EmptyDir.SizeLimit.Cmp(resource.Quantity{}) < 0 {
			return field.ErrorList{field.Forbidden(p.Child("emptyDir", "sizeLimit"), "SizeLimit field must be a valid resource quantity")}
		}
		if m := s.EmptyDir.Medium; m != corev1.StorageMediumDefault && m != corev1.StorageMediumMemory && !strings.HasPrefix(string(m), string(corev1.StorageMediumHugePages)) {
			return field.ErrorList{field.NotSupported(p.Child("emptyDir", "medium"), m, []corev1.StorageMedium{corev1.StorageMediumDefault, corev1.StorageMediumMemory, corev1.StorageMediumHugePages})}
		}
		return nil
	}},
	{"hostPath", func(s *corev1.VolumeSource) bool { return s.HostPath != nil }, func(s *corev1.VolumeSource, p *field.Path, _ string, _ *metav1.ObjectMeta) field.ErrorList {
		p = p.Child("hostPath")
		if s.HostPath.Path == "" {
			return field.ErrorList{field.Required(p.Child("path"), "")}
		}
		errs := validatePathNoBacksteps(s.HostPath.Path, p.Child("path"))
		if t := s.HostPath.Type; t != nil && !supportedHostPathTypes.Has(*t) {
			errs = append(errs, field.NotSupported(p.Child("type"), t, sets.List(supportedHostPathTypes)))
		}
		return errs
	}},
	{"gitRepo", func(s *corev1.VolumeSource) bool { return s.GitRepo != nil }, func(s *corev1.VolumeSource, p *field.Path, _ string, _ *metav1.ObjectMeta) field.ErrorList {
		p = p.Child("gitRepo")
		return append(required(p, "repository", s.GitRepo.Repository), validateLocalDescendingPath(s.GitRepo.Directory, p.Child("directory"))...)
	}},
	{"gcePersistentDisk", func(s *corev1.VolumeSource) bool { return s.GCEPersistentDisk != nil }, func(s *corev1.VolumeSource, p *field.Path, _ string, _ *metav1.ObjectMeta) field.ErrorList {
		p = p.Child("persistentDisk")
		errs := required(p, "pdName", s.GCEPersistentDisk.PDName)
		if pt := s.GCEPersistentDisk.Partition; pt < 0 || pt > 255 {
			errs = append(errs, field.Invalid(p.Child("partition"), pt, "must be between 1 and 255, inclusive"))
		}
		return errs
	}},
	{"awsElasticBlockStore", func(s *corev1.VolumeSource) bool { return s.AWSElasticBlockStore != nil }, func(s *corev1.VolumeSource, p *field.Path, _ string, _ *metav1.ObjectMeta) field.ErrorList {
		p = p.Child("awsElasticBlockStore")
		errs := required(p, "volumeID", s.AWSElasticBlockStore.VolumeID)
		if pt := s.AWSElasticBlockStore.Partition; pt < 0 || pt > 255 {
			errs = append(errs, field.Invalid(p.Child("partition"), pt, "must be between 1 and 255, inclusive"))
		}
		return errs
	}},
	{"secret", func(s *corev1.VolumeSource) bool { return s.Secret != nil }, func(s *corev1.VolumeSource, p *field.Path, _ string, _ *metav1.ObjectMeta) field.ErrorList {
		p = p.Child("secret")
		errs := required(p, "secretName", s.Secret.SecretName)
		errs = append(errs, validateFileMode(s.Secret.DefaultMode, p.Child("defaultMode"))...)
		for i := range s.Secret.Items {
			errs = append(errs, validateKeyToPath(&s.Secret.Items[i], p.Child("items").Index(i))...)
		}
		return errs
	}},
	{"nfs", func(s *corev1.VolumeSource) bool { return s.NFS != nil }, func(s *corev1.VolumeSource, p *field.Path, _ string, _ *metav1.ObjectMeta) field.ErrorList {
		p = p.Child("nfs")
		errs := required(p, "server", s.NFS.Server, "path", s.NFS.Path)
		if !path.IsAbs(s.NFS.Path) {
			errs = append(errs, field.Invalid(p.Child("path"), s.NFS.Path, "must be an absolute path"))
		}
		return errs
	}},
	{"iscsi", func(s *corev1.VolumeSource) bool { return s.ISCSI != nil }, func(s *corev1.VolumeSource, p *field.Path, volName string, _ *metav1.ObjectMeta) field.ErrorList {
		sc := s.ISCSI
		errs := required(p.Child("iscsi"), "targetPortal", sc.TargetPortal, "iqn", sc.IQN)
		if sc.Lun < 0 || sc.Lun > 255 {
			errs = append(errs, field.Invalid(p.Child("iscsi", "lun"), sc.Lun, "must be between 0 and 255, inclusive"))
		}
		if (sc.DiscoveryCHAPAuth || sc.SessionCHAPAuth) && sc.SecretRef == nil {
			errs = append(errs, field.Required(p.Child("iscsi", "secretRef"), ""))
		}
		if sc.InitiatorName != nil && len(volName+":"+sc.TargetPortal) > 64 {
			errs = append(errs, field.Invalid(p.Child("name"), volName, "Total length of <volume name>:<iscsi.targetPortal> must be under 64 characters if iscsi.initiatorName is specified."))
		}
		return errs
	}},
	{"glusterfs", func(s *corev1.VolumeSource) bool { return s.Glusterfs != nil }, func(s *corev1.VolumeSource, p *field.Path, _ string, _ *metav1.ObjectMeta) field.ErrorList {
		return required(p.Child("glusterfs"), "endpoints", s.Glusterfs.EndpointsName, "path", s.Glusterfs.Path)
	}},
	{"flocker", func(s *corev1.VolumeSource) bool { return s.Flocker != nil }, func(s *corev1.VolumeSource, p *field.Path, _ string, _ *metav1.ObjectMeta) field.ErrorList {
		f, p := s.Flocker, p.Child("flocker")
		var errs field.ErrorList
		if f.DatasetName == "" && f.DatasetUUID == "" {
			errs = append(errs, field.Required(p, "one of datasetName and datasetUUID is required"))
		}
		if f.DatasetName != "" && f.DatasetUUID != "" {
			errs = append(errs, field.Invalid(p, "resource", "datasetName and datasetUUID can not be specified simultaneously"))
		}
		if strings.Contains(f.DatasetName, "/") {
			errs = append(errs, field.Invalid(p.Child("datasetName"), f.DatasetName, "must not contain '/'"))
		}
		return errs
	}},
	{"persistentVolumeClaim", func(s *corev1.VolumeSource) bool { return s.PersistentVolumeClaim != nil }, func(s *corev1.VolumeSource, p *field.Path, _ string, _ *metav1.ObjectMeta) field.ErrorList {
		return required(p.Child("persistentVolumeClaim"), "claimName", s.PersistentVolumeClaim.ClaimName)
	}},
	{"rbd", func(s *corev1.VolumeSource) bool { return s.RBD != nil }, func(s *corev1.VolumeSource, p *field.Path, _ string, _ *metav1.ObjectMeta) field.ErrorList {
		var errs field.ErrorList
		if len(s.RBD.CephMonitors) == 0 {
			errs = append(errs, field.Required(p.Child("rbd", "monitors"), ""))
		}
		return append(errs, required(p.Child("rbd"), "image", s.RBD.RBDImage)...)
	}},
	{"cinder", func(s *corev1.VolumeSource) bool { return s.Cinder != nil }, func(s *corev1.VolumeSource, p *field.Path, _ string, _ *metav1.ObjectMeta) field.ErrorList {
		errs := required(p.Child("cinder"), "volumeID", s.Cinder.VolumeID)
		if s.Cinder.SecretRef != nil && s.Cinder.SecretRef.Name == "" {
			errs = append(errs, field.Required(p.Child("cinder", "secretRef", "name"), ""))
		}
		return errs
	}},
	{"cephFS", func(s *corev1.VolumeSource) bool { return s.CephFS != nil }, func(s *corev1.VolumeSource, p *field.Path, _ string, _ *metav1.ObjectMeta) field.ErrorList {
		if len(s.CephFS.Monitors) == 0 {
			return field.ErrorList{field.Required(p.Child("cephfs", "monitors"), "")}
		}
		return nil
	}},
	{"quobyte", func(s *corev1.VolumeSource) bool { return s.Quobyte != nil }, func(s *corev1.VolumeSource, p *field.Path, _ string, _ *metav1.ObjectMeta) field.ErrorList {
		var errs field.ErrorList
		if s.Quobyte.Registry == "" {
			errs = append(errs, field.Required(p.Child("quobyte", "registry"), "must be a host:port pair or multiple pairs separated by commas"))
		}
		return append(errs, required(p.Child("quobyte"), "volume", s.Quobyte.Volume)...)
	}},
	{"downwarAPI", func(s *corev1.VolumeSource) bool { return s.DownwardAPI != nil }, func(s *corev1.VolumeSource, p *field.Path, _ string, _ *metav1.ObjectMeta) field.ErrorList {
		p = p.Child("downwardAPI")
		errs := validateFileMode(s.DownwardAPI.DefaultMode, p.Child("defaultMode"))
		for i := range s.DownwardAPI.Items {
			errs = append(errs, validateDownwardAPIVolumeFile(&s.DownwardAPI.Items[i], p)...)
		}
		return errs
	}},
	{"fc", func(s *corev1.VolumeSource) bool { return s.FC != nil }, func(s *corev1.VolumeSource, p *field.Path, _ string, _ *metav1.ObjectMeta) field.ErrorList {
		fc, p := s.FC, p.Child("fc")
		var errs field.ErrorList
		if len(fc.TargetWWNs) < 1 && len(fc.WWIDs) < 1 {
			errs = append(errs, field.Required(p.Child("targetWWNs"), "must specify either targetWWNs or wwids, but not both"))
		}
		if len(fc.TargetWWNs) != 0 && len(fc.WWIDs) != 0 {
			errs = append(errs, field.Invalid(p.Child("targetWWNs"), fc.TargetWWNs, "targetWWNs and wwids can not be specified simultaneously"))
		}
		if len(fc.TargetWWNs) != 0 {
			if fc.Lun == nil {
				errs = append(errs, field.Required(p.Child("lun"), "lun is required if targetWWNs is specified"))
			} else if *fc.Lun < 0 || *fc.Lun > 255 {
				errs = append(errs, field.Invalid(p.Child("lun"), fc.Lun, "must be between 0 and 255, inclusive"))
			}
		}
		return errs
	}},
	{"flexVolume", func(s *corev1.VolumeSource) bool { return s.FlexVolume != nil }, func(s *corev1.VolumeSource, p *field.Path, _ string, _ *metav1.ObjectMeta) field.ErrorList {
		p = p.Child("flexVolume")
		errs := required(p, "driver", s.FlexVolume.Driver)
		for _, k := range sets.List(sets.KeySet(s.FlexVolume.Options)) {
			ns := k
			if parts := strings.SplitN(k, "/", 2); len(parts) == 2 {
				ns = parts[0]
			}
			n := "." + strings.ToLower(ns)
			if strings.HasSuffix(n, ".kubernetes.io") || strings.HasSuffix(n, ".k8s.io") {
				errs = append(errs, field.Invalid(p.Child("options").Key(k), k, "kubernetes.io and k8s.io namespaces are reserved"))
			}
		}
		return errs
	}},
	{"configMap", func(s *corev1.VolumeSource) bool { return s.ConfigMap != nil }, func(s *corev1.VolumeSource, p *field.Path, _ string, _ *metav1.ObjectMeta) field.ErrorList {
		p = p.Child("configMap")
		errs := required(p, "name", s.ConfigMap.Name)
		errs = append(errs, validateFileMode(s.ConfigMap.DefaultMode, p.Child("defaultMode"))...)
		for i := range s.ConfigMap.Items {
			errs = append(errs, validateKeyToPath(&s.ConfigMap.Items[i], p.Child("items").Index(i))...)
		}
		return errs
	}},
	{"azureFile", func(s *corev1.VolumeSource) bool { return s.AzureFile != nil }, func(s *corev1.VolumeSource, p *field.Path, _ string, _ *metav1.ObjectMeta) field.ErrorList {
		return required(p.Child("azureFile"), "secretName", s.AzureFile.SecretName, "shareName", s.AzureFile.ShareName)
	}},
	{"vsphereVolume", func(s *corev1.VolumeSource) bool { return s.VsphereVolume != nil }, func(s *corev1.VolumeSource, p *field.Path, _ string, _ *metav1.ObjectMeta) field.ErrorList {
		return required(p.Child("vsphereVolume"), "volumePath", s.VsphereVolume.VolumePath)
	}},
	{"photonPersistentDisk", func(s *corev1.VolumeSource) bool { return s.PhotonPersistentDisk != nil }, func(s *corev1.VolumeSource, p *field.Path, _ string, _ *metav1.ObjectMeta) field.ErrorList {
		return required(p.Child("photonPersistentDisk"), "pdID", s.PhotonPersistentDisk.PdID)
	}},
	{"portworxVolume", func(s *corev1.VolumeSource) bool { return s.PortworxVolume != nil }, func(s *corev1.VolumeSource, p *field.Path, _ string, _ *metav1.ObjectMeta) field.ErrorList {
		return required(p.Child("portworxVolume"), "volumeID", s.PortworxVolume.VolumeID)
	}},
	{"azureDisk", func(s *corev1.VolumeSource) bool { return s.AzureDisk != nil }, func(s *corev1.VolumeSource, p *field.Path, _ string, _ *metav1.ObjectMeta) field.ErrorList {
		return required(p.Child("azureDisk"), "diskName", s.AzureDisk.DiskName, "diskURI", s.AzureDisk.DataDiskURI)
	}},
	{"storageos", func(s *corev1.VolumeSource) bool { return s.StorageOS != nil }, func(s *corev1.VolumeSource, p *field.Path, _ string, _ *metav1.ObjectMeta) field.ErrorList {
		p = p.Child("storageos")
		if s.StorageOS.VolumeName == "" {
			return field.ErrorList{field.Required(p.Child("volumeName"), "")}
		}
		return dnsLabel(s.StorageOS.VolumeName, p.Child("volumeName"))
	}},
	{"projected", func(s *corev1.VolumeSource) bool { return s.Projected != nil }, func(s *corev1.VolumeSource, p *field.Path, _ string, _ *metav1.ObjectMeta) field.ErrorList {
		return validateProjected(s.Projected, p.Child("projected"))
	}},
	{"scaleIO", func(s *corev1.VolumeSource) bool { return s.ScaleIO != nil }, func(s *corev1.VolumeSource, p *field.Path, _ string, _ *metav1.ObjectMeta) field.ErrorList {
		sc := s.ScaleIO
		return required(p.Child("scaleIO"), "gateway", sc.Gateway, "system", sc.System, "volumeName", sc.VolumeName)
	}},
	{"csi", func(s *corev1.VolumeSource) bool { return s.CSI != nil }, func(s *corev1.VolumeSource, p *field.Path, _ string, _ *metav1.ObjectMeta) field.ErrorList {
		p = p.Child("csi")
		errs := validateCSIDriverName(s.CSI.Driver, p.Child("driver"))
		if ref := s.CSI.NodePublishSecretRef; ref != nil {
			if ref.Name == "" {
				errs = append(errs, field.Required(p.Child("nodePublishSecretRef", "name"), ""))
			} else {
				errs = append(errs, validate.Invalid(p.Child("name"), ref.Name, apimachineryvalidation.NameIsDNSSubdomain(ref.Name, false))...)
			}
		}
		return errs
	}},
	{"ephemeral", func(s *corev1.VolumeSource) bool { return s.Ephemeral != nil }, func(s *corev1.VolumeSource, p *field.Path, volName string, meta *metav1.ObjectMeta) field.ErrorList {
		errs := validateEphemeralVolume(s.Ephemeral, p.Child("ephemeral"))
		if meta != nil && meta.Name != "" && volName != "" {
			pvc := meta.Name + "-" + volName
			for _, msg := range apimachineryvalidation.NameIsDNSSubdomain(pvc, false) {
				errs = append(errs, field.Invalid(p.Child("name"), volName, fmt.Sprintf("PVC name %q: %v", pvc, msg)))
			}
		}
		return errs
	}},
	{"image", func(s *corev1.VolumeSource) bool { return s.Image != nil }, func(s *corev1.VolumeSource, p *field.Path, _ string, _ *metav1.ObjectMeta) field.ErrorList {
		p = p.Child("image")
		var errs field.ErrorList
		if s.Image.Reference == "" {
			errs = append(errs, field.Required(p.Child("reference"), ""))
		}
		if s.Image.PullPolicy != "" {
			errs = append(errs, validatePullPolicy(s.Image.PullPolicy, p.Child("pullPolicy"))...)
		}
		return errs
	}},
}

func validateVolumeSource(src *corev1.VolumeSource, p *field.Path, volName string, meta *metav1.ObjectMeta) field.ErrorList {
	var errs field.ErrorList
	n := 0
	for _, t := range volumeTypes {
		if !t.set(src) {
			continue
		}
		if n > 0 {
			errs = append(errs, field.Forbidden(p.Child(t.name), "may not specify more than 1 volume type"))
			continue
		}
		n++
		errs = append(errs, t.validate(src, p, volName, meta)...)
	}
	if n == 0 {
		errs = append(errs, field.Required(p, "must specify a volume type"))
	}
	return errs
}

var supportedHostPathTypes = sets.New(
	corev1.HostPathUnset, corev1.HostPathDirectoryOrCreate, corev1.HostPathDirectory,
	corev1.HostPathFileOrCreate, corev1.HostPathFile, corev1.HostPathSocket,
	corev1.HostPathCharDev, corev1.HostPathBlockDev,
)

func validateFileMode(mode *int32, p *field.Path) field.ErrorList {
	if mode != nil && (*mode > 0777 || *mode < 0) {
		return field.ErrorList{field.Invalid(p, *mode, fileModeErrorMsg)}
	}
	return nil
}

func validateKeyToPath(kp *corev1.KeyToPath, p *field.Path) field.ErrorList {
	errs := required(p, "key", kp.Key, "path", kp.Path)
	errs = append(errs, validateLocalNonReservedPath(kp.Path, p.Child("path"))...)
	return append(errs, validateFileMode(kp.Mode, p.Child("mode"))...)
}

func validateDownwardAPIVolumeFile(f *corev1.DownwardAPIVolumeFile, p *field.Path) field.ErrorList {
	errs := required(p, "path", f.Path)
	errs = append(errs, validateLocalNonReservedPath(f.Path, p.Child("path"))...)
	switch {
	case f.FieldRef != nil:
		errs = append(errs, validateObjectFieldSelector(f.FieldRef, validVolumeDownwardAPIFieldPaths, p.Child("fieldRef"))...)
		if f.ResourceFieldRef != nil {
			errs = append(errs, field.Invalid(p, "resource", "fieldRef and resourceFieldRef can not be specified simultaneously"))
		}
	case f.ResourceFieldRef != nil:
		errs = append(errs, validateContainerResourceFieldSelector(f.ResourceFieldRef, p.Child("resourceFieldRef"), true)...)
	default:
		errs = append(errs, field.Required(p, "one of fieldRef and resourceFieldRef is required"))
	}
	return append(errs, validateFileMode(f.Mode, p.Child("mode"))...)
}

func validateProjected(pv *corev1.ProjectedVolumeSource, p *field.Path) field.ErrorList {
	errs := validateFileMode(pv.DefaultMode, p.Child("defaultMode"))
	paths := sets.New[string]()
	addPath := func(cur, badValue string) {
		if cur == "" {
			return
		}
		if paths.Has(cur) {
			errs = append(errs, field.Invalid(p, badValue, "conflicting duplicate paths"))
		}
		paths.Insert(cur)
	}
	for i, src := range pv.Sources {
		n := 0
		sp := p.Child("sources").Index(i)
		if s := src.Secret; s != nil {
			n++
			errs = append(errs, required(sp.Child("secret"), "name", s.Name)...)
			for j := range s.Items {
				errs = append(errs, validateKeyToPath(&s.Items[j], sp.Child("secret", "items").Index(j))...)
				addPath(s.Items[j].Path, s.Name)
			}
		}
		if c := src.ConfigMap; c != nil {
			n++
			errs = append(errs, required(sp.Child("configMap"), "name", c.Name)...)
			for j := range c.Items {
				errs = append(errs, validateKeyToPath(&c.Items[j], sp.Child("configMap", "items").Index(j))...)
				addPath(c.Items[j].Path, c.Name)
			}
		}
		if d := src.DownwardAPI; d != nil {
			n++
			for j := range d.Items {
				errs = append(errs, validateDownwardAPIVolumeFile(&d.Items[j], sp.Child("downwardAPI"))...)
				addPath(d.Items[j].Path, d.Items[j].Path)
			}
		}
		if t := src.ServiceAccountToken; t != nil {
			n++
			tp := sp.Child("serviceAccountToken")
			if t.ExpirationSeconds != nil && *t.ExpirationSeconds < 10*60 {
				errs = append(errs, field.Invalid(tp.Child("expirationSeconds"), *t.ExpirationSeconds, "may not specify a duration less than 10 minutes"))
			}
			if t.ExpirationSeconds != nil && *t.ExpirationSeconds > 1<<32 {
				errs = append(errs, field.Invalid(tp.Child("expirationSeconds"), *t.ExpirationSeconds, "may not specify a duration larger than 2^32 seconds"))
			}
			if t.Path == "" {
				errs = append(errs, field.Required(p.Child("path"), ""))
			} else {
				errs = append(errs, validateLocalNonReservedPath(t.Path, p.Child("path"))...)
			}
		}
		if b := src.ClusterTrustBundle; b != nil {
			n++
			bp := sp.Child("clusterTrustBundle")
			switch {
			case b.Name != nil && b.SignerName != nil:
				errs = append(errs, field.Invalid(bp, b, "only one of name and signerName may be used"))
			case b.Name != nil:
				if *b.Name == "" {
					errs = append(errs, field.Required(bp.Child("name"), "must be a valid object name"))
				}
				if b.LabelSelector != nil {
					errs = append(errs, field.Invalid(bp.Child("labelSelector"), b.LabelSelector, "labelSelector must be unset if name is specified"))
				}
			case b.SignerName != nil:
				if *b.SignerName == "" {
					errs = append(errs, field.Required(bp.Child("signerName"), "must be a valid signer name"))
				}
				errs = append(errs, metavalidation.ValidateLabelSelector(b.LabelSelector, metavalidation.LabelSelectorValidationOptions{}, bp.Child("labelSelector"))...)
			default:
				errs = append(errs, field.Required(bp, "either name or signerName must be specified"))
			}
			if b.Path == "" {
				errs = append(errs, field.Required(bp.Child("path"), ""))
			}
			errs = append(errs, validateLocalNonReservedPath(b.Path, bp.Child("path"))...)
			addPath(b.Path, b.Path)
		}
		if src.PodCertificate != nil {
			n++
		}
		if n > 1 {
			errs = append(errs, field.Forbidden(sp, "may not specify more than 1 volume type per source"))
		}
	}
	return errs
}

func validateCSIDriverName(name string, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	if name == "" {
		errs = append(errs, field.Required(p, ""))
	}
	if len(name) > 63 {
		errs = append(errs, field.TooLong(p, "", 63))
	}
	for _, msg := range dnsSubdomain(strings.ToLower(name), p) {
		msg.BadValue = name
		errs = append(errs, msg)
	}
	return errs
}

var supportedAccessModes = sets.New(corev1.ReadWriteOnce, corev1.ReadOnlyMany, corev1.ReadWriteMany, corev1.ReadWriteOncePod)

// validateEphemeralVolume checks the claim template of a generic ephemeral
// volume: only labels and annotations in its metadata, and the basics of
// its claim spec.
func validateEphemeralVolume(e *corev1.EphemeralVolumeSource, p *field.Path) field.ErrorList {
	t := e.VolumeClaimTemplate
	if t == nil {
		return field.ErrorList{field.Required(p.Child("volumeClaimTemplate"), "")}
	}
	p = p.Child("volumeClaimTemplate")
	mp := p.Child("metadata")
	errs := apimachineryvalidation.ValidateAnnotations(t.Annotations, mp.Child("annotations"))
	errs = append(errs, metavalidation.ValidateLabels(t.Labels, mp.Child("labels"))...)
	meta := t.ObjectMeta
	meta.Labels, meta.Annotations = nil, nil
	errs = append(errs, validateFieldAllowList(meta, map[string]bool{}, "cannot be set", mp)...)
	sp := p.Child("spec")
	if len(t.Spec.AccessModes) == 0 {
		errs = append(errs, field.Required(sp.Child("accessModes"), "at least 1 access mode is required"))
	}
	for _, m := range t.Spec.AccessModes {
		if !supportedAccessModes.Has(m) {
			errs = append(errs, field.NotSupported(sp.Child("accessModes"), m, sets.List(supportedAccessModes)))
		}
	}
	storage, ok := t.Spec.Resources.Requests[corev1.ResourceStorage]
	rp := sp.Child("resources").Key(string(corev1.ResourceStorage))
	if !ok {
		errs = append(errs, field.Required(rp, ""))
	} else if storage.Cmp(resource.Quantity{}) <= 0 {
		errs = append(errs, field.Invalid(rp, storage.String(), isNotPositiveErrorMsg))
	}
	return errs
}

func validateVolumeMounts(mounts []corev1.VolumeMount, devices map[string]string, volumes map[string]corev1.VolumeSource, c *corev1.Container, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	mountPoints := sets.New[string]()
	devicePaths := sets.New[string]()
	for _, d := range devices {
		devicePaths.Insert(d)
	}
	for i, m := range mounts {
		ip := p.Index(i)
		if m.Name == "" {
			errs = append(errs, field.Required(ip.Child("name"), ""))
		}
		if _, ok := volumes[m.Name]; !ok {
			errs = append(errs, field.NotFound(ip.Child("name"), m.Name))
		}
		if m.MountPath == "" {
			errs = append(errs, field.Required(ip.Child("mountPath"), ""))
		}
		if mountPoints.Has(m.MountPath) {
			errs = append(errs, field.Invalid(ip.Child("mountPath"), m.MountPath, "must be unique"))
		}
		mountPoints.Insert(m.MountPath)
		if _, ok := devices[m.Name]; ok {
			errs = append(errs, field.Invalid(ip.Child("name"), m.Name, "must not already exist in volumeDevices"))
		}
		if devicePaths.Has(m.MountPath) {
			errs = append(errs, field.Invalid(ip.Child("mountPath"), m.MountPath, "must not already exist as a path in volumeDevices"))
		}
		if v, ok := volumes[m.Name]; ok && v.Image != nil {
			if m.SubPath != "" {
				errs = append(errs, field.Invalid(ip.Child("subPath"), m.SubPath, "not allowed in image volume sources"))
			}
			if m.SubPathExpr != "" {
				errs = append(errs, field.Invalid(ip.Child("subPathExpr"), m.SubPathExpr, "not allowed in image volume sources"))
			}
		}
		if m.SubPath != "" {
			errs = append(errs, validateLocalDescendingPath(m.SubPath, p.Child("subPath"))...)
		}
		if m.SubPathExpr != "" {
			if m.SubPath != "" {
				errs = append(errs, field.Invalid(ip.Child("subPathExpr"), m.SubPathExpr, "subPathExpr and subPath are mutually exclusive"))
			}
			errs = append(errs, validateLocalDescendingPath(m.SubPathExpr, p.Child("subPathExpr"))...)
		}
		if mp := m.MountPropagation; mp != nil {
			supported := []corev1.MountPropagationMode{corev1.MountPropagationBidirectional, corev1.MountPropagationHostToContainer, corev1.MountPropagationNone}
			switch *mp {
			case corev1.MountPropagationBidirectional, corev1.MountPropagationHostToContainer, corev1.MountPropagationNone:
			default:
				errs = append(errs, field.NotSupported(p.Child("mountPropagation"), *mp, supported))
			}
			privileged := c != nil && c.SecurityContext != nil && c.SecurityContext.Privileged != nil && *c.SecurityContext.Privileged
			if *mp == corev1.MountPropagationBidirectional && !privileged {
				errs = append(errs, field.Forbidden(p.Child("mountPropagation"), "Bidirectional mount propagation is available only to privileged containers"))
			}
		}
		if rro := m.RecursiveReadOnly; rro != nil {
			rp := p.Child("recursiveReadOnly")
			switch *rro {
			case corev1.RecursiveReadOnlyDisabled:
			case corev1.RecursiveReadOnlyEnabled, corev1.RecursiveReadOnlyIfPossible:
				if !m.ReadOnly {
					errs = append(errs, field.Forbidden(rp, "may only be specified when readOnly is true"))
				}
				if m.MountPropagation != nil && *m.MountPropagation != corev1.MountPropagationNone {
					errs = append(errs, field.Forbidden(rp, "may only be specified when mountPropagation is None or not specified"))
				}
			default:
				errs = append(errs, field.NotSupported(rp, *rro, []corev1.RecursiveReadOnlyMode{corev1.RecursiveReadOnlyDisabled, corev1.RecursiveReadOnlyEnabled, corev1.RecursiveReadOnlyIfPossible}))
			}
		}
	}
	return errs
}

func validateVolumeDevices(devices []corev1.VolumeDevice, mounts map[string]string, volumes map[string]corev1.VolumeSource, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	paths, names := sets.New[string](), sets.New[string]()
	mountPaths := sets.New[string]()
	for _, mp := range mounts {
		mountPaths.Insert(mp)
	}
	for i, d := range devices {
		ip := p.Index(i)
		src, matched := volumes[d.Name]
		isPVC := matched && (src.PersistentVolumeClaim != nil || src.Ephemeral != nil)
		if d.Name == "" {
			errs = append(errs, field.Required(ip.Child("name"), ""))
		}
		if names.Has(d.Name) {
			errs = append(errs, field.Invalid(ip.Child("name"), d.Name, "must be unique"))
		}
		if matched && !isPVC {
			errs = append(errs, field.Invalid(ip.Child("name"), d.Name, "can only use volume source type of PersistentVolumeClaim or Ephemeral for block mode"))
		}
		if !matched {
			errs = append(errs, field.NotFound(ip.Child("name"), d.Name))
		}
		if d.DevicePath == "" {
			errs = append(errs, field.Required(ip.Child("devicePath"), ""))
		}
		if paths.Has(d.DevicePath) {
			errs = append(errs, field.Invalid(ip.Child("devicePath"), d.DevicePath, "must be unique"))
		}
		if d.DevicePath != "" && len(validatePathNoBacksteps(d.DevicePath, ip)) > 0 {
			errs = append(errs, field.Invalid(ip.Child("devicePath"), d.DevicePath, "can not contain backsteps ('..')"))
		} else {
			paths.Insert(d.DevicePath)
		}
		if _, ok := mounts[d.Name]; ok {
			errs = append(errs, field.Invalid(ip.Child("name"), d.Name, "must not already exist in volumeMounts"))
		}
		if mountPaths.Has(d.DevicePath) {
			errs = append(errs, field.Invalid(ip.Child("devicePath"), d.DevicePath, "must not already exist as a path in volumeMounts"))
		}
		if d.Name != "" {
			names.Insert(d.Name)
		}
	}
	return errs
}

func validateLocalDescendingPath(target string, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	if path.IsAbs(target) {
		errs = append(errs, field.Invalid(p, target, "must be a relative path"))
	}
	return append(errs, validatePathNoBacksteps(target, p)...)
}

func validatePathNoBacksteps(target string, p *field.Path) field.ErrorList {
	for _, item := range strings.Split(filepath.ToSlash(target), "/") {
		if item == ".." {
			return field.ErrorList{field.Invalid(p, target, "must not contain '..'")}
		}
	}
	return nil
}

func validateLocalNonReservedPath(target string, p *field.Path) field.ErrorList {
	errs := validateLocalDescendingPath(target, p)
	if strings.HasPrefix(target, "..") && !strings.HasPrefix(target, "../") {
		errs = append(errs, field.Invalid(p, target, "must not start with '..'"))
	}
	return errs
}
