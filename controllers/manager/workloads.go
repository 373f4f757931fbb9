package manager

import (
	"context"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/kubernetes/scheme"
	typedcorev1 "k8s.io/client-go/kubernetes/typed/core/v1"
	"k8s.io/client-go/tools/record"

	"github.com/capstan-dev/capstan/controllers/deployment"
	"github.com/capstan-dev/capstan/controllers/replicaset"
	"github.com/capstan-dev/capstan/controllers/replicationcontroller"
)

// workloadStarters are the workload controllers (replicaset, deployment, ...).
func workloadStarters() []starter {
	return []starter{
		{replicaset.Name, func(ctx context.Context, cc controllerContext) error {
			client, err := cc.ClientFor(replicaset.Name)
			if err != nil {
				return err
			}
			c, err := replicaset.New(client, eventRecorder(ctx, client, "replicaset-controller"),
				cc.Factory.Apps().V1().ReplicaSets(), cc.Factory.Core().V1().Pods())
			if err != nil {
				return err
			}
			go c.Run(ctx, 5)
			return nil
		}},
		{replicationcontroller.Name, func(ctx context.Context, cc controllerContext) error {
			client, err := cc.ClientFor(replicationcontroller.Name)
			if err != nil {
				return err
			}
			c, err := replicationcontroller.New(client, eventRecorder(ctx, client, "replication-controller"),
				cc.Factory.Core().V1().ReplicationControllers(), cc.Factory.Core().V1().Pods())
			if err != nil {
				return err
			}
			go c.Run(ctx, 5)
			return nil
		}},
		{deployment.Name, func(ctx context.Context, cc controllerContext) error {
			client, err := cc.ClientFor(deployment.Name)
			if err != nil {
				return err
			}
			c, err := deployment.New(client, eventRecorder(ctx, client, "deployment-controller"),
				cc.Factory.Apps().V1().Deployments(), cc.Factory.Apps().V1().ReplicaSets(), cc.Factory.Core().V1().Pods())
			if err != nil {
				return err
			}
			go c.Run(ctx, 5)
			return nil
		}},
	}
}

// eventRecorder records a controller's events as core/v1 Events under the
// component name upstream uses, until ctx ends.
func eventRecorder(ctx context.Context, client kubernetes.Interface, component string) record.EventRecorder {
	b := record.NewBroadcaster(record.WithContext(ctx))
	b.StartRecordingToSink(&typedcorev1.EventSinkImpl{Interface: client.CoreV1().Events("")})
	go func() {
		<-ctx.Done()
		b.Shutdown()
	}()
	return b.NewRecorder(scheme.Scheme, corev1.EventSource{Component: component})
}
