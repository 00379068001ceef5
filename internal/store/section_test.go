package store_test

import (
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/set-image-platform/set-image-platform/internal/store"
)

// TestSection reads bytes [offset, offset+size) of a file, again after a
// rewind, and refuses what it cannot be: a seek elsewhere, a section
// past the file's end.
func TestSection(t *testing.T) {
	t.Parallel()
	p := filepath.Join(t.TempDir(), "archive")
	if err := os.WriteFile(p, []byte("header|the blob|trailer"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name         string
		offset, size int64
		want         string
		wantErr      error
	}{
		{name: "inside", offset: 7, size: 8, want: "the blob"},
		{name: "empty", offset: 7, size: 0, want: ""},
		{name: "past the end", offset: 16, size: 20, want: "trailer", wantErr: io.ErrUnexpectedEOF},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f, err := os.Open(p)
			if err != nil {
				t.Fatal(err)
			}
			s, err := store.NewSection(f, tc.offset, tc.size)
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			for _, pass := range []string{"first", "after a rewind"} {
				got, err := io.ReadAll(s)
				if diff := cmp.Diff(tc.want, string(got)); diff != "" || err != tc.wantErr {
					t.Errorf("ReadAll(section %d+%d), %s = %v (-want +got):\n%s, want error %v", tc.offset, tc.size, pass, err, diff, tc.wantErr)
				}
				if _, err := s.Seek(0, io.SeekStart); err != nil {
					t.Fatalf("Seek(0, io.SeekStart) = %v, want nil", err)
				}
			}
			if _, err := s.Seek(3, io.SeekStart); err == nil {
				t.Errorf("Seek(3, io.SeekStart) = nil, want an error")
			}
		})
	}
}
