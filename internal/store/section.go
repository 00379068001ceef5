package store

import (
	"errors"
	"io"
	"os"
	"sync"
	"syscall"
)

// Section is a blob held whole in a local file: bytes [start, end) of a
// file opened for this blob alone, read through the file's own offset.
// That lets a registry upload hand the file to the kernel (net/http sends
// a body that is a syscall.Conn with sendfile on a plain TCP connection):
// the bytes then go from the page cache to the socket without passing
// through the process, which therefore does not check them against their
// digest; the registry does, against the digest the upload names (an
// upload whose bytes miss it is refused). Read goes on from wherever the
// kernel left the offset.
type Section struct {
	f          *os.File
	start, end int64

	mu sync.Mutex
	// pos is the offset as Read left it, until the kernel may have moved
	// it (SyscallConn): then it is asked again.
	pos    int64
	kernel bool
}

// NewSection is bytes [offset, offset+size) of f, which it owns.
func NewSection(f *os.File, offset, size int64) (*Section, error) {
	if _, err := f.Seek(offset, io.SeekStart); err != nil {
		return nil, err
	}
	return &Section{f: f, start: offset, end: offset + size, pos: offset}, nil
}

// Sectioned is a reader OpenBlob returns for a blob it holds as a Section:
// Read checks the digest at the end, Section gives the same bytes
// unchecked, for an upload whose registry checks them.
type Sectioned interface {
	Section() *Section
}

func (s *Section) Read(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.kernel {
		pos, err := s.f.Seek(0, io.SeekCurrent)
		if err != nil {
			return 0, err
		}
		s.pos, s.kernel = pos, false
	}
	if s.pos >= s.end {
		return 0, io.EOF
	}
	if left := s.end - s.pos; int64(len(p)) > left {
		p = p[:left]
	}
	n, err := s.f.Read(p)
	s.pos += int64(n)
	if err == io.EOF && s.pos < s.end {
		err = io.ErrUnexpectedEOF
	}
	return n, err
}

// Seek rewinds the section to its start, for a request sent again; it
// seeks nowhere else.
func (s *Section) Seek(offset int64, whence int) (int64, error) {
	if offset != 0 || whence != io.SeekStart {
		return 0, errors.New("a blob section only rewinds to its start")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, err := s.f.Seek(s.start, io.SeekStart); err != nil {
		return 0, err
	}
	s.pos, s.kernel = s.start, false
	return 0, nil
}

// SyscallConn is the file's, for the kernel to read it from its offset.
func (s *Section) SyscallConn() (syscall.RawConn, error) {
	s.mu.Lock()
	s.kernel = true
	s.mu.Unlock()
	return s.f.SyscallConn()
}

// Offset is how far into the section the file's offset is: what the
// kernel has sent of it, while it sends.
func (s *Section) Offset() (int64, error) {
	pos, err := s.f.Seek(0, io.SeekCurrent)
	return pos - s.start, err
}

// Size is how many bytes the section holds.
func (s *Section) Size() int64 { return s.end - s.start }

// Close closes the file.
func (s *Section) Close() error { return s.f.Close() }
