package scheme

import (
	"regexp"
	"strings"
)

// Container image references, following the grammar of the distribution
// project's reference package (the one the kubelet and upstream defaulting
// parse images with):
//
//	reference := name [ ":" tag ] [ "@" digest ]
//	name      := [ domain "/" ] path-component { "/" path-component }
//	domain    := host [ ":" port ]
var coreImageReferencePattern = func() *regexp.Regexp {
	const (
		domainComponent = `(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])`
		domainName      = domainComponent + `(?:\.` + domainComponent + `)*`
		ipv6            = `\[(?:[a-fA-F0-9:]+)\]`
		domain          = `(?:` + domainName + `|` + ipv6 + `)(?::[0-9]+)?`
		pathComponent   = `[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*`
		name            = `(?:` + domain + `/)?` + pathComponent + `(?:/` + pathComponent + `)*`
		tag             = `[\w][\w.-]{0,127}`
		digest          = `[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}`
	)
	return regexp.MustCompile(`^(` + name + `)(?::(` + tag + `))?(?:@(` + digest + `))?$`)
}()

var (
	coreHexIdentifierPattern = regexp.MustCompile(`^[a-f0-9]{64}$`)
	// The digest algorithms a reference may use, with the length of their
	// lower-case hex encoding.
	coreDigestHexLength = map[string]int{"sha256": 64, "sha384": 96, "sha512": 128}
	coreLowerHexPattern = regexp.MustCompile(`^[a-f0-9]+$`)
)

// coreImageReferenceTag parses an image reference the way a docker-style client
// normalises it (docker.io and library/ are implied) and returns its tag:
// the tag written, or "latest" when it has neither a tag nor a digest, or ""
// when it is pinned by digest alone. ok is false for an invalid reference.
func coreImageReferenceTag(image string) (tag string, ok bool) {
	if coreHexIdentifierPattern.MatchString(image) {
		return "", false // a bare image ID, not a repository name
	}
	domain, remainder := coreSplitImageDomain(image)
	repo := remainder
	if i := strings.IndexByte(remainder, ':'); i >= 0 {
		repo = remainder[:i]
	}
	if strings.ToLower(repo) != repo {
		return "", false // repository names are lower case
	}
	m := coreImageReferencePattern.FindStringSubmatch(domain + "/" + remainder)
	if m == nil || len(m[1]) > 255 {
		return "", false
	}
	tag, digest := m[2], m[3]
	if digest != "" && !coreValidImageDigest(digest) {
		return "", false
	}
	if tag == "" && digest == "" {
		tag = "latest"
	}
	return tag, true
}

// coreSplitImageDomain splits the registry host off an image name. The first
// component is a host only when it looks like one (has a dot or a port, is
// localhost, or has upper case letters); otherwise the image is on Docker
// Hub, where single-component names live under library/.
func coreSplitImageDomain(image string) (domain, remainder string) {
	const hub = "docker.io"
	i := strings.IndexByte(image, '/')
	if i < 0 || (!strings.ContainsAny(image[:i], ".:") && image[:i] != "localhost" && strings.ToLower(image[:i]) == image[:i]) {
		domain, remainder = hub, image
	} else {
		domain, remainder = image[:i], image[i+1:]
	}
	if domain == "index.docker.io" {
		domain = hub
	}
	if domain == hub && !strings.ContainsRune(remainder, '/') {
		remainder = "library/" + remainder
	}
	return domain, remainder
}

// coreValidImageDigest accepts only digests of a known algorithm whose encoding
// is lower-case hex of that algorithm's length.
func coreValidImageDigest(d string) bool {
	alg, hex, found := strings.Cut(d, ":")
	if !found {
		return false
	}
	n, known := coreDigestHexLength[alg]
	return known && len(hex) == n && coreLowerHexPattern.MatchString(hex)
}
