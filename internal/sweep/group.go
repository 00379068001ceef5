package sweep

// Group is the items that share one digest: they are read, planned and
// written once, then each is tagged.
type Group[T any] struct {
	Digest string
	Items  []T
}

// ByDigest groups items by digest(item): groups in the order their first
// item appears, items in the order given. An item whose digest is ""
// (not known, e.g. its read failed) is a group of its own.
func ByDigest[T any](items []T, digest func(T) string) []Group[T] {
	var groups []Group[T]
	at := map[string]int{}
	for _, it := range items {
		d := digest(it)
		if i, ok := at[d]; ok && d != "" {
			groups[i].Items = append(groups[i].Items, it)
			continue
		}
		at[d] = len(groups)
		groups = append(groups, Group[T]{Digest: d, Items: []T{it}})
	}
	return groups
}
