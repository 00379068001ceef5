//go:build linux && !arm

package layout

import (
	"os"
	"syscall"
)

// syncFileRangeWrite is SYNC_FILE_RANGE_WRITE: start writing the range's
// dirty pages, without waiting for them.
const syncFileRangeWrite = 2

// startWriteback asks the kernel to start writing bytes [off, off+n) of
// f to the disk, and does not wait. Best effort: the fsync before the
// rename writes whatever this did not.
func startWriteback(f *os.File, off, n int64) {
	_ = syscall.SyncFileRange(int(f.Fd()), off, n, syncFileRangeWrite)
}
