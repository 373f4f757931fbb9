package volumes

// mountPoint is one line of the mount table.
type mountPoint struct {
	path   string
	fsType string
}

// mounter is the seam to the kernel's mount table, so tests can run the
// manager without privileges.
type mounter interface {
	// mountTmpfs mounts a tmpfs on target; sizeBytes 0 means the kernel's
	// default size.
	mountTmpfs(target string, sizeBytes int64) error
	// bindFD bind-mounts the file or directory open as fd onto target.
	bindFD(fd int, target string) error
	// unmount detaches the mount on target (lazily, so it cannot be busy).
	unmount(target string) error
	// mountPoints lists the mount table of this process.
	mountPoints() ([]mountPoint, error)
}
