package diff

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/go-zookeeper/zk"
)

// errNames maps go-zookeeper's error values to the ZooKeeper code names used in transcripts.
var errNames = []struct {
	err  error
	name string
}{
	{zk.ErrNoNode, "NoNode"},
	{zk.ErrNodeExists, "NodeExists"},
	{zk.ErrBadVersion, "BadVersion"},
	{zk.ErrNotEmpty, "NotEmpty"},
	{zk.ErrNoChildrenForEphemerals, "NoChildrenForEphemerals"},
	{zk.ErrNoAuth, "NoAuth"},
	{zk.ErrInvalidACL, "InvalidACL"},
	{zk.ErrAuthFailed, "AuthFailed"},
	{zk.ErrBadArguments, "BadArguments"},
	{zk.ErrAPIError, "APIError"},
	{zk.ErrSessionExpired, "SessionExpired"},
	{zk.ErrSessionMoved, "SessionMoved"},
	{zk.ErrReconfigDisabled, "ReconfigDisabled"},
	{zk.ErrClosing, "Closing"},
	{zk.ErrNothing, "Nothing"},
	{zk.ErrInvalidPath, "client:InvalidPath"},
	{zk.ErrInvalidFlags, "client:InvalidFlags"},
	{zk.ErrConnectionClosed, "ConnectionClosed"},
	{zk.ErrNoServer, "NoServer"},
}

// codeNames names ZooKeeper's error codes, for the codes go-zookeeper reports only as
// "unknown error: N" and for the raw client.
var codeNames = map[int]string{
	-1: "SystemError", -2: "RuntimeInconsistency", -3: "DataInconsistency",
	-4: "ConnectionLoss", -5: "MarshallingError", -6: "Unimplemented",
	-7: "OperationTimeout", -8: "BadArguments", -13: "NewConfigNoQuorum",
	-14: "ReconfigInProgress", -100: "APIError", -101: "NoNode", -102: "NoAuth",
	-103: "BadVersion", -108: "NoChildrenForEphemerals", -110: "NodeExists",
	-111: "NotEmpty", -112: "SessionExpired", -114: "InvalidACL", -115: "AuthFailed",
	-118: "SessionMoved", -119: "NotReadOnly", -120: "EphemeralOnLocalSession",
	-121: "NoWatcher", -123: "ReconfigDisabled", -125: "QuotaExceeded", -127: "ThrottledOp",
}

// ErrName renders an error as the ZooKeeper code name a user would check ("ok" for nil).
// Transport failures (reset, broken pipe, EOF), whose text depends on timing, all render as
// "ConnectionLost".
func ErrName(err error) string {
	if err == nil {
		return "ok"
	}
	for _, e := range errNames {
		if errors.Is(err, e.err) {
			return e.name
		}
	}
	var code int
	if _, scanErr := fmt.Sscanf(err.Error(), "unknown error: %d", &code); scanErr == nil {
		if n, ok := codeNames[code]; ok {
			return n
		}
		return fmt.Sprintf("code(%d)", code)
	}
	return "ConnectionLost"
}

// FmtStat renders a Stat with zxids and the owner as normalisation tokens, and the times as
// checks a user can rely on across servers: ctime "now" (within 10 minutes of this clock) or
// its raw value, and mtime relative to ctime. A node whose data changed (version > 0) may
// have mtime == ctime when both fell in one millisecond, so only mtime >= ctime is asserted.
func FmtStat(st *zk.Stat) string {
	if st == nil {
		return "stat{nil}"
	}
	ctime := fmt.Sprint(st.Ctime)
	if d := time.Since(time.UnixMilli(st.Ctime)); d > -10*time.Minute && d < 10*time.Minute {
		ctime = "now"
	}
	var rel string
	switch {
	case st.Version > 0 && st.Mtime >= st.Ctime:
		rel = "mtime>=ctime"
	case st.Mtime == st.Ctime:
		rel = "mtime=ctime"
	case st.Mtime > st.Ctime:
		rel = "mtime>ctime"
	default:
		rel = "mtime<ctime"
	}
	return fmt.Sprintf("stat{czxid=%s mzxid=%s pzxid=%s ctime=%s %s version=%d cversion=%d aversion=%d owner=%s dataLength=%d numChildren=%d}",
		ZxidToken(st.Czxid), ZxidToken(st.Mzxid), ZxidToken(st.Pzxid), ctime, rel,
		st.Version, st.Cversion, st.Aversion, SessionToken(st.EphemeralOwner), st.DataLength, st.NumChildren)
}

func statIf(ok bool, st *zk.Stat) string {
	if !ok {
		return ""
	}
	return FmtStat(st)
}

// fmtData renders node data: <nil> for a null buffer, otherwise quoted, long data summarised.
func fmtData(b []byte) string {
	if b == nil {
		return "data=<nil>"
	}
	if len(b) > 64 {
		return fmt.Sprintf("data=(%d bytes, starts %q)", len(b), b[:16])
	}
	return fmt.Sprintf("data=%q", b)
}

// fmtACL renders ACLs like zkCli: "scheme:id:perms" with perms as letters cdrwa.
func fmtACL(acl []zk.ACL) string {
	parts := make([]string, len(acl))
	for i, a := range acl {
		parts[i] = fmt.Sprintf("%s:%s:%s", a.Scheme, a.ID, permString(a.Perms))
	}
	return "[" + strings.Join(parts, ",") + "]"
}

func permString(p int32) string {
	var b strings.Builder
	for _, x := range []struct {
		bit int32
		c   byte
	}{{zk.PermCreate, 'c'}, {zk.PermDelete, 'd'}, {zk.PermRead, 'r'}, {zk.PermWrite, 'w'}, {zk.PermAdmin, 'a'}} {
		if p&x.bit != 0 {
			b.WriteByte(x.c)
		}
	}
	if rest := p &^ zk.PermAll; rest != 0 {
		fmt.Fprintf(&b, "+%#x", rest)
	}
	if b.Len() == 0 {
		return "-"
	}
	return b.String()
}
