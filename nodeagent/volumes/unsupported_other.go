//go:build !linux

package volumes

import "errors"

var errUnsupported = errors.New("not supported on this operating system")

type kernelMounter struct{}

func (kernelMounter) mountTmpfs(string, int64) error             { return errUnsupported }
func (kernelMounter) bindFD(int, string) error                   { return errUnsupported }
func (kernelMounter) unmount(string) error                       { return errUnsupported }
func (kernelMounter) mountPoints() ([]mountPoint, error)         { return nil, errUnsupported }
func (m *Manager) prepareSubPath(_, _, _ string) (string, error) { return "", errUnsupported }
