// Command node-images writes the image archives every node needs without a
// registry (pause and busybox) into a directory, for `capstan agent
// --image-archive-dir` and `capstan server --local-agent-image-archive-dir`.
package main

import (
	"flag"
	"fmt"
	"os"
	"os/exec"
	"strings"

	"github.com/capstan-dev/capstan/nodeagent/images"
)

func main() {
	out := flag.String("out", "bin/images", "directory for the archives")
	bb := flag.String("busybox", "", "statically linked busybox (hack/build-busybox.sh builds bin/busybox); defaults to the one on PATH")
	flag.Parse()
	root, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}").Output()
	if err != nil {
		fail(fmt.Errorf("finding the module: %w", err))
	}
	busybox := *bb
	if busybox == "" {
		if busybox, err = exec.LookPath("busybox"); err != nil {
			fail(fmt.Errorf("no busybox: run hack/build-busybox.sh or hack/install-node-deps.sh"))
		}
	}
	archives, err := images.BuildNodeImages(*out, "go", strings.TrimSpace(string(root)), busybox)
	if err != nil {
		fail(err)
	}
	for _, a := range archives {
		fmt.Println(a)
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "node-images:", err)
	os.Exit(1)
}
