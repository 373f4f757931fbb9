package apiserver

import (
	apimachineryversion "k8s.io/apimachinery/pkg/version"
	basecompatibility "k8s.io/component-base/compatibility"
)

// KubeVersion is the Kubernetes release whose API Capstan serves.
const KubeVersion = "1.37.2"

// gitCommit is set at link time (-X) by the Makefile; empty in `go test` builds.
var gitCommit string

// GitVersion is what /version reports: a semantic version whose build
// metadata names Capstan, so kubectl's version dispatcher can parse it.
func GitVersion() string {
	v := "v" + KubeVersion + "+capstan"
	if gitCommit != "" {
		v += "." + gitCommit
	}
	return v
}

// effectiveVersion reports Capstan's gitVersion in /version.
type effectiveVersion struct {
	basecompatibility.MutableEffectiveVersion
}

func newEffectiveVersion() effectiveVersion {
	return effectiveVersion{basecompatibility.NewEffectiveVersionFromString(KubeVersion, "", "")}
}

func (v effectiveVersion) Info() *apimachineryversion.Info {
	info := v.MutableEffectiveVersion.Info()
	info.GitVersion = GitVersion()
	info.GitCommit = gitCommit
	info.GitTreeState = "clean"
	return info
}
