package znode

import (
	"errors"
	"testing"
)

func TestValidatePath(t *testing.T) {
	for _, tc := range []struct {
		path string
		ok   bool
	}{
		{"/", true},
		{"/a", true},
		{"/a/b-c_d.e", true},
		{"/a/..b", true}, // only whole "." and ".." segments are relative
		{"/zookeeper/quota", true},
		{"", false},
		{"a", false},
		{"/a/", false},
		{"//a", false},
		{"/a//b", false},
		{"/a/./b", false},
		{"/a/../b", false},
		{"/..", false},
		{"/a\x00b", false},
		{"/a\x01", false},
		{"/a\u007f", false},
		{"/a\u0085", false},
		{"/a\ud7ff", true},
		{"/a\uf8ff", false},
		{"/a\ufff0", false},
		{"/bad\xffutf8", false},
	} {
		err := ValidatePath(tc.path)
		if (err == nil) != tc.ok {
			t.Errorf("ValidatePath(%q) = %v, want ok=%v", tc.path, err, tc.ok)
		}
		if err != nil && !errors.Is(err, ErrBadArguments) {
			t.Errorf("ValidatePath(%q) error %v does not wrap ErrBadArguments", tc.path, err)
		}
	}
}

func TestParentBaseJoin(t *testing.T) {
	for _, tc := range []struct{ path, parent, base string }{
		{"/", "", ""},
		{"/a", "/", "a"},
		{"/a/b", "/a", "b"},
		{"/a/b/c", "/a/b", "c"},
	} {
		if got := Parent(tc.path); got != tc.parent {
			t.Errorf("Parent(%q) = %q, want %q", tc.path, got, tc.parent)
		}
		if got := Base(tc.path); got != tc.base {
			t.Errorf("Base(%q) = %q, want %q", tc.path, got, tc.base)
		}
		if tc.path != "/" {
			if got := Join(tc.parent, tc.base); got != tc.path {
				t.Errorf("Join(%q, %q) = %q, want %q", tc.parent, tc.base, got, tc.path)
			}
		}
	}
}

func TestAllowed(t *testing.T) {
	alice := ID{Scheme: "digest", ID: "alice:HASH"}
	local := ID{Scheme: "ip", ID: "127.0.0.1"}
	for _, tc := range []struct {
		name string
		acl  []ACL
		ids  []ID
		perm int32
		want bool
	}{
		{"empty ACL allows all", nil, nil, PermAdmin, true},
		{"world anyone read", ReadACLUnsafe, []ID{local}, PermRead, true},
		{"world anyone read-only refuses write", ReadACLUnsafe, []ID{local}, PermWrite, false},
		{"digest match", []ACL{{PermAll, alice}}, []ID{local, alice}, PermDelete, true},
		{"digest mismatch", []ACL{{PermAll, alice}}, []ID{local, {Scheme: "digest", ID: "bob:HASH"}}, PermRead, false},
		{"super passes everything", []ACL{{PermRead, alice}}, []ID{SuperID}, PermAdmin, true},
		{"ip exact", []ACL{{PermRead, ID{"ip", "127.0.0.1"}}}, []ID{local}, PermRead, true},
		{"ip cidr", []ACL{{PermRead, ID{"ip", "127.0.0.0/8"}}}, []ID{local}, PermRead, true},
		{"ip outside cidr", []ACL{{PermRead, ID{"ip", "10.0.0.0/8"}}}, []ID{local}, PermRead, false},
		{"ipv4-mapped ipv6 matches", []ACL{{PermRead, ID{"ip", "127.0.0.1"}}}, []ID{{Scheme: "ip", ID: "::ffff:127.0.0.1"}}, PermRead, true},
		{"perm bit absent", []ACL{{PermAll &^ PermRead, AnyoneID}}, []ID{local}, PermRead, false},
	} {
		if got := Allowed(tc.acl, tc.ids, tc.perm); got != tc.want {
			t.Errorf("%s: Allowed = %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestValidID(t *testing.T) {
	for _, tc := range []struct {
		id   ID
		want bool
	}{
		{AnyoneID, true},
		{ID{"world", "someone"}, false},
		{ID{"digest", "bob:hash"}, true},
		{ID{"digest", "bob"}, false},
		{ID{"digest", "bob:"}, false},
		{ID{"digest", ":"}, false},
		{ID{"digest", "a:b:c"}, false},
		{ID{"ip", "10.1.2.3"}, true},
		{ID{"ip", "10.0.0.0/8"}, true},
		{ID{"ip", "::1"}, true},
		{ID{"ip", "not-an-ip"}, false},
		{ID{"kerberos", "x"}, false},
	} {
		if got := ValidID(tc.id); got != tc.want {
			t.Errorf("ValidID(%v) = %v, want %v", tc.id, got, tc.want)
		}
	}
}

func TestFixupACL(t *testing.T) {
	alice := ID{Scheme: "digest", ID: "alice:HASH"}
	local := ID{Scheme: "ip", ID: "127.0.0.1"}
	for _, tc := range []struct {
		name string
		acl  []ACL
		ids  []ID
		want []ACL
		err  bool
	}{
		{"empty is invalid", nil, nil, nil, true},
		{"world kept", OpenACLUnsafe, nil, OpenACLUnsafe, false},
		{"auth expands to digest ids", CreatorAllACL, []ID{local, alice}, []ACL{{PermAll, alice}}, false},
		{"auth without digest identity is invalid", CreatorAllACL, []ID{local}, nil, true},
		{"bad digest id is invalid", []ACL{{PermAll, ID{"digest", "nocolon"}}}, nil, nil, true},
		{"unknown scheme is invalid", []ACL{{PermAll, ID{"x509", "cn"}}}, nil, nil, true},
		{"duplicates removed", []ACL{{PermRead, AnyoneID}, {PermRead, AnyoneID}}, nil, ReadACLUnsafe, false},
	} {
		got, err := FixupACL(tc.acl, tc.ids)
		if (err != nil) != tc.err {
			t.Errorf("%s: err = %v, want error %v", tc.name, err, tc.err)
			continue
		}
		if err != nil && !errors.Is(err, ErrInvalidACL) {
			t.Errorf("%s: %v does not wrap ErrInvalidACL", tc.name, err)
		}
		if len(got) != len(tc.want) {
			t.Errorf("%s: got %v, want %v", tc.name, got, tc.want)
			continue
		}
		for i := range got {
			if got[i] != tc.want[i] {
				t.Errorf("%s: got %v, want %v", tc.name, got, tc.want)
			}
		}
	}
}

func TestCreateModeFlags(t *testing.T) {
	for m := CreateMode(-1); m <= 7; m++ {
		valid := m >= 0 && m <= 6
		if m.Valid() != valid {
			t.Errorf("%v.Valid() = %v", m, m.Valid())
		}
	}
	if !ModeEphemeralSequential.Ephemeral() || !ModeEphemeralSequential.Sequential() || ModeContainer.Ephemeral() ||
		!ModePersistentSequentialWithTTL.TTL() || !ModePersistentSequentialWithTTL.Sequential() || !ModeContainer.Container() {
		t.Error("CreateMode predicates disagree with ZooKeeper's CreateMode")
	}
}
