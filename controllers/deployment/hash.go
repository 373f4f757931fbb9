package deployment

import (
	"encoding/binary"
	"fmt"
	"hash/fnv"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/rand"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/utils/dump"
)

// TemplateHash is the pod-template-hash of a Deployment's template: FNV-1a
// (32 bits) over a deterministic dump of the template, followed by the
// collision count when there is one, printed in decimal and re-encoded with
// rand.SafeEncodeString (no vowels, no look-alikes). It is the value
// upstream computes for the same template, so ReplicaSet and pod names look
// the same as on a stock cluster.
func TemplateHash(template *corev1.PodTemplateSpec, collisionCount *int32) string {
	h := fnv.New32a()
	fmt.Fprintf(h, "%v", dump.ForHash(*template))
	if collisionCount != nil {
		b := make([]byte, 8)
		binary.LittleEndian.PutUint32(b, uint32(*collisionCount))
		h.Write(b)
	}
	return rand.SafeEncodeString(fmt.Sprint(h.Sum32()))
}

// replicaSetName is <deployment>-<hash>, with the deployment's name cut
// short if the result would not be a valid name.
func replicaSetName(deployment, hash string) string {
	if room := validation.DNS1123SubdomainMaxLength - len(hash) - 1; len(deployment) > room && room > 0 {
		deployment = deployment[:room]
	}
	return deployment + "-" + hash
}
