package znode

import (
	"net/netip"
	"strings"
)

// SuperID is the identity that passes every ACL check.
var SuperID = ID{Scheme: "super", ID: ""}

// Allowed reports whether a client authenticated as ids may perform an
// operation needing perm on a node with the given ACL, following
// ZooKeeper's ZooKeeperServer.checkACL: an empty ACL allows everything,
// super passes, world:anyone matches everyone, digest matches exactly and
// ip matches an address or a CIDR block.
func Allowed(acl []ACL, ids []ID, perm int32) bool {
	if len(acl) == 0 {
		return true
	}
	for _, id := range ids {
		if id.Scheme == "super" {
			return true
		}
	}
	for _, a := range acl {
		if a.Perms&perm == 0 {
			continue
		}
		if a.ID.Scheme == "world" && a.ID.ID == "anyone" {
			return true
		}
		for _, id := range ids {
			if id.Scheme == a.ID.Scheme && matches(id, a.ID) {
				return true
			}
		}
	}
	return false
}

func matches(authID, aclID ID) bool {
	switch aclID.Scheme {
	case "ip":
		return ipMatches(authID.ID, aclID.ID)
	default:
		return authID.ID == aclID.ID
	}
}

func ipMatches(addr, pattern string) bool {
	a, err := netip.ParseAddr(addr)
	if err != nil {
		return false
	}
	a = a.Unmap()
	if !strings.Contains(pattern, "/") {
		p, err := netip.ParseAddr(pattern)
		return err == nil && p.Unmap() == a
	}
	pfx, err := netip.ParsePrefix(pattern)
	if err != nil {
		return false
	}
	return pfx.Contains(a)
}

// ValidID reports whether an ACL id is well formed for its scheme
// (AuthenticationProvider.isValid): digest ids are user:hash, ip ids an
// address or CIDR block, world only anyone.
func ValidID(id ID) bool {
	switch id.Scheme {
	case "world":
		return id.ID == "anyone"
	case "digest":
		// Java's String.split drops trailing empty fields, so ZooKeeper
		// rejects "user:" and ":" while accepting ":hash".
		parts := strings.Split(id.ID, ":")
		for len(parts) > 0 && parts[len(parts)-1] == "" {
			parts = parts[:len(parts)-1]
		}
		return len(parts) == 2
	case "ip":
		if strings.Contains(id.ID, "/") {
			_, err := netip.ParsePrefix(id.ID)
			return err == nil
		}
		_, err := netip.ParseAddr(id.ID)
		return err == nil
	case "super":
		return true
	}
	return false
}

// FixupACL validates an ACL list from a create or setACL request and
// expands auth entries into the client's authenticated ids, as
// PrepRequestProcessor.fixupACL does. Duplicates are removed.
func FixupACL(acl []ACL, ids []ID) ([]ACL, error) {
	if len(acl) == 0 {
		return nil, ErrInvalidACL
	}
	out := make([]ACL, 0, len(acl))
	add := func(a ACL) {
		for _, b := range out {
			if b == a {
				return
			}
		}
		out = append(out, a)
	}
	for _, a := range acl {
		switch {
		case a.ID.Scheme == "world" && a.ID.ID == "anyone":
			add(a)
		case a.ID.Scheme == "auth":
			found := false
			for _, id := range ids {
				// Only schemes whose provider "isAuthenticated" count:
				// digest (and super); ip does not.
				if id.Scheme == "digest" {
					add(ACL{Perms: a.Perms, ID: id})
					found = true
				}
			}
			if !found {
				return nil, ErrInvalidACL
			}
		default:
			if !ValidID(a.ID) || a.ID.Scheme == "super" {
				return nil, ErrInvalidACL
			}
			add(a)
		}
	}
	return out, nil
}
