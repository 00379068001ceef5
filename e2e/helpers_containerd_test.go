package e2e

import (
	"archive/tar"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
)

// standInEngine stands in for Engine 25+ with the containerd image store
// (docker info: driver-type io.containerd.snapshotter.v1), which the
// Engine 20.10 of .ci/run lacks. Its answers have the shapes a real Engine
// 26.1.5 with that store gave (docs/daemon.md): the image ID is the
// manifest's digest; a save is an OCI layout, its blobs in the order of
// their digests, then index.json, manifest.json, oci-layout; a load takes
// an OCI layout and finds the blobs it lacks in the store, and a blob in
// neither fails it in a 200 answer, naming no image.
type standInEngine struct {
	host string // its DOCKER_HOST

	mu    sync.Mutex
	blobs map[string][]byte // by digest, sha256:…
	names map[string]string // full name (index.docker.io/library/app:1) → manifest or index digest
}

// newStandInEngine serves a stand-in engine, holding nothing, until t ends.
func newStandInEngine(t *testing.T) *standInEngine {
	t.Helper()
	e := &standInEngine{blobs: map[string][]byte{}, names: map[string]string{}}
	e.host = serveUnix(t, e.serve)
	return e
}

// put stores im (manifest, config and layers) as tag, as a docker load
// or a build leaves it, and returns its image ID: the manifest's digest.
func (e *standInEngine) put(t testing.TB, tag string, im image) string {
	t.Helper()
	e.mu.Lock()
	defer e.mu.Unlock()
	m := im.manifest()
	for _, b := range append([][]byte{m, im.config.data}, layerData(im)...) {
		e.blobs[sha256Digest(b)] = b
	}
	e.names[fullName(t, tag)] = sha256Digest(m)
	return sha256Digest(m)
}

// putArchive loads the OCI layout tar archive as docker load does.
func (e *standInEngine) putArchive(t testing.TB, tag string, archive []byte) {
	t.Helper()
	e.mu.Lock()
	defer e.mu.Unlock()
	if _, msg := e.loadFiles(untar(t, archive)); msg != "" {
		t.Fatalf("the stand-in's load of %s: %s", tag, msg)
	}
}

// attestedIndex is an index as buildx writes it for one platform: the
// image im (its entry says linux/amd64, its config may say less), and an
// attestation manifest for it (platform unknown/unknown, an in-toto
// layer of provenance, vnd.docker.reference.* annotations). blobs are
// the attestation's manifest, config and layer.
func attestedIndex(im image) (index []byte, blobs [][]byte) {
	statement := fmt.Sprintf(`{"_type":"https://in-toto.io/Statement/v0.1","predicateType":"https://slsa.dev/provenance/v0.2","subject":[{"name":"pkg:docker/app","digest":{"sha256":%q}}],"predicate":{"builder":{"id":""}}}`,
		strings.TrimPrefix(im.manifestDigest(), "sha256:"))
	config := fmt.Sprintf(`{"architecture":"unknown","os":"unknown","config":{},"rootfs":{"type":"layers","diff_ids":[%q]}}`, sha256Digest([]byte(statement)))
	manifest := fmt.Sprintf(`{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":%q,"size":%d},"layers":[{"mediaType":"application/vnd.in-toto+json","digest":%q,"size":%d,"annotations":{"in-toto.io/predicate-type":"https://slsa.dev/provenance/v0.2"}}]}`,
		sha256Digest([]byte(config)), len(config), sha256Digest([]byte(statement)), len(statement))
	index = []byte(fmt.Sprintf(`{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[`+
		`{"mediaType":%q,"digest":%q,"size":%d,"platform":{"architecture":"amd64","os":"linux"}},`+
		`{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":%q,"size":%d,"annotations":{"vnd.docker.reference.digest":%q,"vnd.docker.reference.type":"attestation-manifest"},"platform":{"architecture":"unknown","os":"unknown"}}]}`,
		im.manifestType, im.manifestDigest(), len(im.manifest()), sha256Digest([]byte(manifest)), len(manifest), im.manifestDigest()))
	return index, [][]byte{[]byte(manifest), []byte(config), []byte(statement)}
}

// indexArchive is an OCI layout tar of attestedIndex(im) named tag, as
// buildx writes it and docker load into the containerd store takes it;
// it returns the index's digest, the image ID the engine gives it.
func indexArchive(t testing.TB, tag string, im image) ([]byte, string) {
	t.Helper()
	index, attestation := attestedIndex(im)
	return ociArchive(t, tag, index, append(append([][]byte{im.manifest(), im.config.data}, attestation...), layerData(im)...)...), sha256Digest(index)
}

// ociArchive is an OCI layout tar whose index.json names top (a manifest
// or an index) as tag, as containerd names images, with top and blobs.
func ociArchive(t testing.TB, tag string, top []byte, blobs ...[]byte) []byte {
	t.Helper()
	entry := fmt.Sprintf(`{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[{"mediaType":%q,"digest":%q,"size":%d,"annotations":{"io.containerd.image.name":%q}}]}`,
		shapeOf(top), sha256Digest(top), len(top), fullName(t, tag))
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	writeFile(tw, "oci-layout", 0o644, []byte(`{"imageLayoutVersion":"1.0.0"}`))
	writeFile(tw, "index.json", 0o644, []byte(entry))
	for _, b := range append([][]byte{top}, blobs...) {
		writeFile(tw, "blobs/sha256/"+strings.TrimPrefix(sha256Digest(b), "sha256:"), 0o644, b)
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// shapeOf is the media type a manifest or index says it is.
func shapeOf(b []byte) string {
	var m parsedManifest
	json.Unmarshal(b, &m)
	return m.MediaType
}

// untar is the regular files of archive by name.
func untar(t testing.TB, archive []byte) map[string][]byte {
	t.Helper()
	files := map[string][]byte{}
	tr := tar.NewReader(bytes.NewReader(archive))
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			return files
		}
		if err != nil {
			t.Fatalf("reading an archive: %v", err)
		}
		if files[hdr.Name], err = io.ReadAll(tr); err != nil {
			t.Fatalf("reading %s of an archive: %v", hdr.Name, err)
		}
	}
}

func layerData(im image) [][]byte {
	var out [][]byte
	for _, l := range im.layers {
		out = append(out, l.data)
	}
	return out
}

// fullName is the name the engine keeps for a tag as docker names it.
func fullName(t testing.TB, tag string) string {
	t.Helper()
	n, err := name.NewTag(tag)
	if err != nil {
		t.Fatalf("name.NewTag(%q) = %v", tag, err)
	}
	return n.Name()
}

// familiar is a full name as docker prints it (app:1 for
// index.docker.io/library/app:1).
func familiar(full string) string {
	s := strings.TrimPrefix(full, name.DefaultRegistry+"/")
	return strings.TrimPrefix(s, "library/")
}

// versioned is an Engine API path with its version: /v1.45/images/….
var versioned = regexp.MustCompile(`^/v[0-9]+\.[0-9]+/`)

func (e *standInEngine) serve(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Api-Version", "1.45")
	w.Header().Set("Server", "Docker/26.1.5 (linux) stand-in")
	if r.URL.Path == "/_ping" {
		fmt.Fprint(w, "OK")
		return
	}
	path := "/" + versioned.ReplaceAllString(r.URL.Path, "")
	// One request at a time: the handlers run with e.mu held.
	e.mu.Lock()
	defer e.mu.Unlock()
	switch {
	case path == "/info" && r.Method == http.MethodGet:
		writeJSON(w, http.StatusOK, map[string]any{"Driver": "overlayfs", "DriverStatus": [][]string{{"driver-type", "io.containerd.snapshotter.v1"}}})
	case path == "/images/load" && r.Method == http.MethodPost:
		e.load(w, r.Body)
	case strings.HasPrefix(path, "/images/") && strings.HasSuffix(path, "/json") && r.Method == http.MethodGet:
		e.inspect(w, strings.TrimSuffix(strings.TrimPrefix(path, "/images/"), "/json"))
	case strings.HasPrefix(path, "/images/") && strings.HasSuffix(path, "/get") && r.Method == http.MethodGet:
		e.save(w, strings.TrimSuffix(strings.TrimPrefix(path, "/images/"), "/get"))
	default:
		writeJSON(w, http.StatusNotFound, map[string]string{"message": "page not found"})
	}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

// resolve finds ref (a tag, or an ID sha256:…) as the engine does, and
// returns the digest of its manifest or index; e.mu is held.
func (e *standInEngine) resolve(ref string) (string, bool) {
	if strings.HasPrefix(ref, "sha256:") {
		_, ok := e.blobs[ref]
		return ref, ok
	}
	n, err := name.NewTag(ref)
	if err != nil {
		return "", false
	}
	d, ok := e.names[n.Name()]
	return d, ok
}

// found resolves ref, or answers 404 as the engine does; e.mu is held.
func (e *standInEngine) found(w http.ResponseWriter, ref string) (string, bool) {
	id, ok := e.resolve(ref)
	if !ok {
		writeJSON(w, http.StatusNotFound, map[string]string{"message": "No such image: " + ref})
	}
	return id, ok
}

func (e *standInEngine) manifest(d string) parsedManifest {
	var m parsedManifest
	json.Unmarshal(e.blobs[d], &m)
	return m
}

func (e *standInEngine) inspect(w http.ResponseWriter, ref string) {
	id, ok := e.found(w, ref)
	if !ok {
		return
	}
	m := e.manifest(id)
	if len(m.Manifests) > 0 {
		// An index says the platform of the child the engine would run.
		m = e.manifest(m.Manifests[0].Digest)
	}
	var cfg struct {
		OS           string `json:"os"`
		Architecture string `json:"architecture"`
		Variant      string `json:"variant"`
		OSVersion    string `json:"os.version"`
		RootFS       struct {
			DiffIDs []string `json:"diff_ids"`
		} `json:"rootfs"`
	}
	json.Unmarshal(e.blobs[m.Config.Digest], &cfg)
	tags, digests := []string{}, []string{}
	for n, d := range e.names {
		if d == id {
			tags = append(tags, familiar(n))
			repo, _, _ := strings.Cut(familiar(n), ":")
			digests = append(digests, repo+"@"+id)
		}
	}
	slices.Sort(tags)
	slices.Sort(digests)
	out := map[string]any{
		"Id": id, "RepoTags": tags, "RepoDigests": digests, "Parent": "", "DockerVersion": "26.1.5",
		"Os": cfg.OS, "Architecture": cfg.Architecture, "Size": 0,
		"GraphDriver": map[string]any{"Name": "overlayfs", "Data": nil},
		"RootFS":      map[string]any{"Type": "layers", "Layers": cfg.RootFS.DiffIDs},
	}
	if cfg.Variant != "" {
		out["Variant"] = cfg.Variant
	}
	if cfg.OSVersion != "" {
		out["OsVersion"] = cfg.OSVersion
	}
	writeJSON(w, http.StatusOK, out)
}

// save writes the OCI layout Engine 26.1.5 writes for an image named by
// its ID: blobs sorted by digest (read-only), index.json naming the
// manifest without a name, manifest.json with no RepoTags, oci-layout.
func (e *standInEngine) save(w http.ResponseWriter, ref string) {
	id, ok := e.found(w, ref)
	if !ok {
		return
	}
	digests := e.closure(id)
	m := e.manifest(id)
	if len(m.Manifests) > 0 {
		// manifest.json names the image child, the first.
		m = e.manifest(m.Manifests[0].Digest)
	}
	var layers []string
	for _, l := range m.Layers {
		layers = append(layers, "blobs/sha256/"+strings.TrimPrefix(l.Digest, "sha256:"))
	}
	slices.Sort(digests)
	digests = slices.Compact(digests)
	tw := tar.NewWriter(w)
	for _, dir := range []string{"blobs/", "blobs/sha256/"} {
		tw.WriteHeader(&tar.Header{Name: dir, Typeflag: tar.TypeDir, Mode: 0o755})
	}
	for _, d := range digests {
		writeFile(tw, "blobs/sha256/"+strings.TrimPrefix(d, "sha256:"), 0o444, e.blobs[d])
	}
	top := e.manifest(id)
	index := fmt.Sprintf(`{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[{"mediaType":%q,"digest":%q,"size":%d}]}`, top.MediaType, id, len(e.blobs[id]))
	writeFile(tw, "index.json", 0o644, []byte(index))
	mj, _ := json.Marshal([]map[string]any{{"Config": "blobs/sha256/" + strings.TrimPrefix(m.Config.Digest, "sha256:"), "RepoTags": nil, "Layers": layers}})
	writeFile(tw, "manifest.json", 0o644, mj)
	writeFile(tw, "oci-layout", 0o444, []byte(`{"imageLayoutVersion":"1.0.0"}`))
	tw.Close()
}

func writeFile(tw *tar.Writer, name string, mode int64, data []byte) {
	tw.WriteHeader(&tar.Header{Name: name, Typeflag: tar.TypeReg, Mode: mode, Size: int64(len(data))})
	tw.Write(data)
}

// closure is d and every blob it names, down the tree: an index's
// children, a manifest's config and layers; those the stand-in holds.
func (e *standInEngine) closure(d string) []string {
	if _, ok := e.blobs[d]; !ok {
		return nil
	}
	out := []string{d}
	m := e.manifest(d)
	for _, c := range m.Manifests {
		out = append(out, e.closure(c.Digest)...)
	}
	if m.Config.Digest != "" {
		out = append(out, m.Config.Digest)
	}
	for _, l := range m.Layers {
		out = append(out, l.Digest)
	}
	return out
}

// load takes an OCI layout as the containerd store does (loadFiles).
func (e *standInEngine) load(w http.ResponseWriter, body io.Reader) {
	fail := func(msg string) {
		writeJSON(w, http.StatusOK, map[string]any{"errorDetail": map[string]string{"message": msg}, "error": msg})
	}
	files := map[string][]byte{}
	tr := tar.NewReader(body)
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			fail("reading the archive: " + err.Error())
			return
		}
		if files[hdr.Name], err = io.ReadAll(tr); err != nil {
			fail("reading the archive: " + err.Error())
			return
		}
	}
	said, msg := e.loadFiles(files)
	if msg != "" {
		fail(msg)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	for _, s := range said {
		json.NewEncoder(w).Encode(map[string]string{"stream": s + "\n"})
	}
}

// loadFiles loads an OCI layout's files (by name) as the containerd
// store does: every blob the manifests name, down an index's children
// (a child may be absent, as a pull of one platform leaves it), is
// in the archive or the store already, else the load fails with the words
// Engine 26.1.5 used; the name in io.containerd.image.name moves to the
// manifest or index. It returns what docker load says, or why it failed;
// e.mu is held.
func (e *standInEngine) loadFiles(files map[string][]byte) (said []string, failure string) {
	var index struct {
		Manifests []struct {
			Digest      string            `json:"digest"`
			Annotations map[string]string `json:"annotations"`
		} `json:"manifests"`
	}
	if err := json.Unmarshal(files["index.json"], &index); err != nil {
		return nil, "unrecognized image format"
	}
	blob := func(d string) ([]byte, bool) {
		if b, ok := files["blobs/sha256/"+strings.TrimPrefix(d, "sha256:")]; ok && sha256Digest(b) == d {
			return b, true
		}
		b, ok := e.blobs[d]
		return b, ok
	}
	for _, entry := range index.Manifests {
		got := map[string][]byte{}
		var walk func(d string) string
		walk = func(d string) string {
			b, ok := blob(d)
			if !ok {
				return "failed to unpack loaded image: failed to extract layer " + d + ": failed to get reader from content store: content digest " + d + ": not found"
			}
			got[d] = b
			var m parsedManifest
			json.Unmarshal(b, &m)
			var need []string
			for _, c := range m.Manifests {
				if _, ok := blob(c.Digest); !ok {
					// An index's child may be absent, as a pull of one
					// platform leaves it: Engine 26.1.5 loads such an
					// index.
					continue
				}
				need = append(need, c.Digest)
			}
			if m.Config.Digest != "" {
				need = append(need, m.Config.Digest)
			}
			for _, l := range m.Layers {
				need = append(need, l.Digest)
			}
			for _, n := range need {
				if msg := walk(n); msg != "" {
					return msg
				}
			}
			return ""
		}
		if msg := walk(entry.Digest); msg != "" {
			return nil, msg
		}
		maps.Copy(e.blobs, got)
		if n := entry.Annotations["io.containerd.image.name"]; n != "" {
			full, err := name.NewTag(n)
			if err != nil {
				return nil, "invalid reference format"
			}
			e.names[full.Name()] = entry.Digest
			said = append(said, "Loaded image: "+familiar(full.Name()))
		} else {
			said = append(said, "Loaded image ID: "+entry.Digest)
		}
	}
	return said, ""
}

// idOf is the image ID the stand-in holds for ref, "" when none.
func (e *standInEngine) idOf(ref string) string {
	e.mu.Lock()
	defer e.mu.Unlock()
	id, _ := e.resolve(ref)
	return id
}

// saved are the blobs of the tree the image ID id names, by digest, as
// its save holds them.
func (e *standInEngine) saved(id string) map[string][]byte {
	e.mu.Lock()
	defer e.mu.Unlock()
	out := map[string][]byte{}
	for _, d := range e.closure(id) {
		out[d] = e.blobs[d]
	}
	return out
}

// platformOf is os/architecture of the config of the manifest d, or of
// an index's first child, as the engine's inspect says it.
func (e *standInEngine) platformOf(d string) string {
	e.mu.Lock()
	defer e.mu.Unlock()
	if m := e.manifest(d); len(m.Manifests) > 0 {
		d = m.Manifests[0].Digest
	}
	var cfg struct {
		OS           string `json:"os"`
		Architecture string `json:"architecture"`
	}
	json.Unmarshal(e.blobs[e.manifest(d).Config.Digest], &cfg)
	return cfg.OS + "/" + cfg.Architecture
}
