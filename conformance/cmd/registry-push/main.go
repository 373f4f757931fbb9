// Command registry-push uploads OCI image archives (as written by
// nodeagent/images.WriteArchive) to a registry speaking the distribution
// API, for a loopback registry that serves as the nodes' mirror of
// registry.k8s.io (images.Push).
//
//	registry-push -registry http://127.0.0.1:5000 archive.tar...
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/capstan-dev/capstan/nodeagent/images"
)

func main() {
	registry := flag.String("registry", "", "base URL of the registry (http://127.0.0.1:5000)")
	flag.Parse()
	if *registry == "" || flag.NArg() == 0 {
		fmt.Fprintln(os.Stderr, "usage: registry-push -registry URL archive.tar...")
		os.Exit(2)
	}
	failed := false
	for _, a := range flag.Args() {
		names, err := images.Push(a, *registry)
		if err != nil {
			fmt.Fprintf(os.Stderr, "%s: %v\n", a, err)
			failed = true
			continue
		}
		for _, n := range names {
			fmt.Printf("pushed %s\n", n)
		}
	}
	if failed {
		os.Exit(1)
	}
}
