// Command capstan runs the Capstan control plane (`capstan server`) and,
// later, its node agent (`capstan agent`).
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"
	utilfeature "k8s.io/apiserver/pkg/util/feature"
	"k8s.io/component-base/cli"
	"k8s.io/klog/v2"

	"github.com/capstan-dev/capstan/apiserver"
)

func main() {
	os.Exit(cli.Run(newCommand()))
}

func newCommand() *cobra.Command {
	root := &cobra.Command{
		Use:           "capstan",
		Short:         "A Kubernetes 1.37 compatible control plane",
		SilenceUsage:  true,
		SilenceErrors: false,
	}
	root.AddCommand(newServerCommand(), newVersionCommand())
	return root
}

func newServerCommand() *cobra.Command {
	o := apiserver.NewOptions()
	cmd := &cobra.Command{
		Use:   "server",
		Short: "Run the control plane: etcd, the API server chain, scheduler and controllers",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			// The first SIGTERM/SIGINT starts a graceful shutdown; a second one exits at once.
			ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
			defer stop()
			go func() {
				<-ctx.Done()
				stop()
			}()
			ctx = klog.NewContext(ctx, klog.Background())
			return apiserver.Run(ctx, o)
		},
	}
	o.AddFlags(cmd.Flags())
	// The apiserver library's feature gates (e.g. CBORServingAndStorage), as kube-apiserver's --feature-gates.
	utilfeature.DefaultMutableFeatureGate.AddFlag(cmd.Flags())
	return cmd
}

func newVersionCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the Kubernetes version Capstan serves",
		Run: func(*cobra.Command, []string) {
			fmt.Println(apiserver.GitVersion())
		},
	}
}
