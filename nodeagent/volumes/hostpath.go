package volumes

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"

	corev1 "k8s.io/api/core/v1"
)

// hostPath checks a hostPath volume's type, creating the directory or file
// for the *OrCreate types, and returns the path itself: the runtime
// bind-mounts it directly.
func hostPath(src *corev1.HostPathVolumeSource) (string, error) {
	p := src.Path
	if hasBacksteps(p) {
		return "", fmt.Errorf("invalid HostPath `%s`: must not contain '..'", p)
	}
	if src.Type == nil || *src.Type == corev1.HostPathUnset {
		return p, nil
	}
	return p, checkHostPathType(p, *src.Type)
}

func checkHostPathType(p string, t corev1.HostPathType) error {
	switch t {
	case corev1.HostPathDirectoryOrCreate:
		if !exists(p) {
			if err := os.MkdirAll(p, 0o755); err != nil {
				return err
			}
		}
		return typeIs(p, corev1.HostPathDirectory, "directory")
	case corev1.HostPathDirectory:
		return typeIs(p, corev1.HostPathDirectory, "directory")
	case corev1.HostPathFileOrCreate:
		if !exists(p) {
			f, err := os.OpenFile(p, os.O_CREATE, 0o644)
			if err != nil && !errors.Is(err, fs.ErrExist) {
				return err
			}
			if f != nil {
				_ = f.Close()
			}
		}
		return typeIs(p, corev1.HostPathFile, "file")
	case corev1.HostPathFile:
		return typeIs(p, corev1.HostPathFile, "file")
	case corev1.HostPathSocket:
		return typeIs(p, corev1.HostPathSocket, "socket file")
	case corev1.HostPathCharDev:
		return typeIs(p, corev1.HostPathCharDev, "character device")
	case corev1.HostPathBlockDev:
		return typeIs(p, corev1.HostPathBlockDev, "block device")
	}
	return fmt.Errorf("%s is an invalid volume type", t)
}

func exists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

// typeIs reports, in the kubelet's words, a path that is not of type want.
func typeIs(p string, want corev1.HostPathType, what string) error {
	got, err := fileType(p)
	if err != nil {
		return fmt.Errorf("hostPath type check failed, %s is not a %s, unable to determine its type: %w", p, what, err)
	}
	if got != want {
		return fmt.Errorf("hostPath type check failed: %s is not a %s, it's a %s", p, what, got)
	}
	return nil
}

// fileType names what p is (following symlinks) with the HostPathType
// values.
func fileType(p string) (corev1.HostPathType, error) {
	info, err := os.Stat(p)
	if errors.Is(err, fs.ErrNotExist) {
		return "", fmt.Errorf("path %q does not exist", p)
	}
	if err != nil {
		return "", err
	}
	mode := info.Mode()
	switch {
	case mode.IsDir():
		return corev1.HostPathDirectory, nil
	case mode.IsRegular():
		return corev1.HostPathFile, nil
	case mode&os.ModeSocket != 0:
		return corev1.HostPathSocket, nil
	case mode&os.ModeCharDevice != 0:
		return corev1.HostPathCharDev, nil
	case mode&os.ModeDevice != 0:
		return corev1.HostPathBlockDev, nil
	}
	return "", errors.New("only recognise file, directory, socket, block device and character device")
}

// hasBacksteps reports whether p has a ".." element.
func hasBacksteps(p string) bool {
	for _, part := range strings.Split(p, "/") {
		if part == ".." {
			return true
		}
	}
	return false
}
