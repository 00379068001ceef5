package registry

import "testing"

func TestPrivateAddr(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		host string
		want bool
	}{
		{"127.0.0.1", true},
		{"127.0.0.2", true},
		{"localhost", true},
		{"[::1]", true},
		{"10.1.2.3", true},
		{"192.168.0.5", true},
		{"172.16.9.9", true},
		{"fd00::1", true},
		{"::ffff:10.0.0.1", true},
		// The metadata service is link-local: never a realm.
		{"169.254.169.254", false},
		{"fe80::1", false},
		{"8.8.8.8", false},
		{"registry.example.com", false},
	} {
		t.Run(tc.host, func(t *testing.T) {
			t.Parallel()
			if got := privateAddr(tc.host); got != tc.want {
				t.Errorf("privateAddr(%q) = %t, want %t", tc.host, got, tc.want)
			}
		})
	}
}

func TestRealmAlias(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		host    string
		private bool
		realm   string
		want    string
		refused bool
	}{
		{"private realm of a private registry", "10.0.0.5:5000", true, "http://10.0.0.5:5001/token", "http://10.0.0.5:5000" + realmPath + "0", false},
		{"https kept", "127.0.0.1:5000", true, "https://127.0.0.1:5001/token", "https://127.0.0.1:5000" + realmPath + "0", false},
		{"realm on the registry's host", "10.0.0.5:5000", true, "http://10.0.0.5:5000/token", "", false},
		{"public realm", "10.0.0.5:5000", true, "https://auth.example.com/token", "", false},
		{"link-local realm", "10.0.0.5:5000", true, "http://169.254.169.254/latest", "", false},
		{"private realm of a public registry", "registry.example.com", false, "http://10.0.0.5:5001/token", "", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			rt := &realmTransport{host: tc.host, private: func() bool { return tc.private }}
			if got := rt.alias(tc.realm); got != tc.want {
				t.Errorf("alias(%q) = %q, want %q", tc.realm, got, tc.want)
			}
			if got := rt.refusedRealm() != ""; got != tc.refused {
				t.Errorf("refused after alias(%q) = %t, want %t", tc.realm, got, tc.refused)
			}
			if tc.want != "" {
				if got := rt.lookup("0"); got == nil || got.String() != tc.realm {
					t.Errorf("lookup(0) = %v, want %s", got, tc.realm)
				}
			}
		})
	}
}
