// Command capstan runs the Capstan control plane (`capstan server`) and,
// later, its node agent (`capstan agent`).
package main

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"

	"github.com/spf13/cobra"
	utilerrors "k8s.io/apimachinery/pkg/util/errors"
	utilfeature "k8s.io/apiserver/pkg/util/feature"
	"k8s.io/component-base/cli"
	"k8s.io/klog/v2"

	"github.com/capstan-dev/capstan/apiserver"
	"github.com/capstan-dev/capstan/nodeagent"
	"github.com/capstan-dev/capstan/nodeagent/containerd"
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
	root.AddCommand(newServerCommand(), newAgentCommand(), newNodeCredentialsCommand(), newCertsCommand(), newVersionCommand())
	return root
}

func newServerCommand() *cobra.Command {
	o := apiserver.NewOptions()
	agent := nodeagent.NewOptions()
	localAgent := "auto"
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
			s, err := apiserver.Start(ctx, o)
			if err != nil {
				return err
			}
			if err := startLocalAgent(ctx, s, o, agent, localAgent); err != nil {
				return err
			}
			return <-s.Done()
		},
	}
	o.AddFlags(cmd.Flags())
	cmd.Flags().StringVar(&localAgent, "local-agent", localAgent, "Run a node agent in the server process: auto (when containerd and runc are installed and the server runs as root), true or false.")
	cmd.Flags().StringVar(&agent.ImageArchiveDir, "local-agent-image-archive-dir", agent.ImageArchiveDir, "OCI image archives the local agent imports into its containerd (pause and busybox from `make images`).")
	cmd.Flags().StringVar(&agent.PodCIDR, "local-agent-pod-cidr", "10.244.0.0/24", "Pod address range of the local agent's node.")
	cmd.Flags().StringVar(&agent.Bridge, "local-agent-bridge", "capstan0", "Name of the local agent's pod bridge.")
	cmd.Flags().IntVar(&agent.Port, "local-agent-port", agent.Port, "Port of the local agent's API.")
	// The apiserver library's feature gates (e.g. CBORServingAndStorage), as kube-apiserver's --feature-gates.
	utilfeature.DefaultMutableFeatureGate.AddFlag(cmd.Flags())
	return cmd
}

// startLocalAgent runs a node agent beside the control plane, with its own
// node credentials and a private containerd, when asked or when one can run.
func startLocalAgent(ctx context.Context, s *apiserver.Server, o *apiserver.Options, a *nodeagent.Options, mode string) error {
	logger := klog.FromContext(ctx)
	switch mode {
	case "false":
		return nil
	case "auto":
		if os.Geteuid() != 0 || !containerd.Available("") {
			logger.Info("No local node agent: it needs root and containerd and runc installed")
			return nil
		}
	case "true":
	default:
		return fmt.Errorf("--local-agent must be auto, true or false, not %q", mode)
	}
	root, err := filepath.Abs(filepath.Join(o.DataDir, "agent"))
	if err != nil {
		return err
	}
	creds, err := apiserver.WriteNodeCredentials(o.DataDir, a.NodeName, net.ParseIP("127.0.0.1"), s.URL, filepath.Join(root, "pki"))
	if err != nil {
		return err
	}
	a.Kubeconfig, a.TLSCertFile, a.TLSKeyFile, a.ClientCAFile = creds.Kubeconfig, creds.ServingCert, creds.ServingKey, creds.ClientCA
	a.RootDir, a.StartContainerd, a.NodeIP, a.Address = root, true, "127.0.0.1", "127.0.0.1"
	a.Version = apiserver.GitVersion()
	go func() {
		if err := nodeagent.RunWithOptions(ctx, a); err != nil {
			logger.Error(err, "Local node agent stopped")
		}
	}()
	return nil
}

func newAgentCommand() *cobra.Command {
	o := nodeagent.NewOptions()
	cmd := &cobra.Command{
		Use:   "agent",
		Short: "Run the node agent: register the Node and run its pods through a CRI runtime",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
			defer stop()
			ctx = klog.NewContext(ctx, klog.Background())
			o.Version = apiserver.GitVersion()
			return nodeagent.RunWithOptions(ctx, o)
		},
	}
	o.AddFlags(cmd.Flags())
	return cmd
}

func newNodeCredentialsCommand() *cobra.Command {
	var dataDir, node, ip, server, out string
	cmd := &cobra.Command{
		Use:   "node-credentials",
		Short: "Issue a node agent's credentials (kubeconfig, serving certificate) from the cluster CA",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var nodeIP net.IP
			if ip != "" {
				if nodeIP = net.ParseIP(ip); nodeIP == nil {
					return fmt.Errorf("--node-ip %q is not an IP address", ip)
				}
			}
			creds, err := apiserver.WriteNodeCredentials(dataDir, node, nodeIP, server, out)
			if err != nil {
				return err
			}
			fmt.Printf("--kubeconfig %s --tls-cert-file %s --tls-private-key-file %s --client-ca-file %s\n",
				creds.Kubeconfig, creds.ServingCert, creds.ServingKey, creds.ClientCA)
			return nil
		},
	}
	cmd.Flags().StringVar(&dataDir, "data-dir", "capstan-data", "The server's data directory (holds the cluster CA).")
	cmd.Flags().StringVar(&node, "node-name", "", "Name of the node.")
	cmd.Flags().StringVar(&ip, "node-ip", "", "The node's address, added to its serving certificate.")
	cmd.Flags().StringVar(&server, "server", "", "URL of the API server written into the kubeconfig.")
	cmd.Flags().StringVar(&out, "out", "", "Directory to write the credentials to.")
	for _, f := range []string{"node-name", "server", "out"} {
		_ = cmd.MarkFlagRequired(f)
	}
	return cmd
}

// newCertsCommand writes the control plane's credentials without starting
// it, for running the same cluster identity with other binaries (the
// conformance harness's upstream control plane).
func newCertsCommand() *cobra.Command {
	o := apiserver.NewOptions()
	cmd := &cobra.Command{
		Use:   "certs",
		Short: "Write the cluster CA, serving and client certificates, service account key and admin kubeconfig into --data-dir, then exit",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := o.Complete(); err != nil {
				return err
			}
			if errs := o.Validate(); len(errs) > 0 {
				return utilerrors.NewAggregate(errs)
			}
			ca, err := apiserver.WriteCertificates(o)
			if err != nil {
				return err
			}
			kubeconfig, url, err := apiserver.WriteAdminKubeconfig(o, ca)
			if err != nil {
				return err
			}
			fmt.Printf("%s (server %s)\n", kubeconfig, url)
			return nil
		},
	}
	o.AddFlags(cmd.Flags())
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
