package proto

import "strconv"

// Opcodes: the type field of RequestHeader and of a multi's MultiHeader.
const (
	OpNotification         int32 = 0
	OpCreate               int32 = 1
	OpDelete               int32 = 2
	OpExists               int32 = 3
	OpGetData              int32 = 4
	OpSetData              int32 = 5
	OpGetACL               int32 = 6
	OpSetACL               int32 = 7
	OpGetChildren          int32 = 8
	OpSync                 int32 = 9
	OpPing                 int32 = 11
	OpGetChildren2         int32 = 12
	OpCheck                int32 = 13
	OpMulti                int32 = 14
	OpCreate2              int32 = 15
	OpReconfig             int32 = 16
	OpCheckWatches         int32 = 17
	OpRemoveWatches        int32 = 18
	OpCreateContainer      int32 = 19
	OpDeleteContainer      int32 = 20
	OpCreateTTL            int32 = 21
	OpMultiRead            int32 = 22
	OpAuth                 int32 = 100
	OpSetWatches           int32 = 101
	OpSASL                 int32 = 102
	OpGetEphemerals        int32 = 103
	OpGetAllChildrenNumber int32 = 104
	OpSetWatches2          int32 = 105
	OpAddWatch             int32 = 106
	OpWhoAmI               int32 = 107
	OpCreateSession        int32 = -10
	OpCloseSession         int32 = -11
	OpError                int32 = -1
)

// Special xids. A server echoes the request xid in its reply; notifications
// always carry XidNotification.
const (
	XidNotification int32 = -1 // server-to-client watch event
	XidPing         int32 = -2 // ping request and its reply
	XidAuth         int32 = -4 // auth packet and its reply
	XidSetWatches   int32 = -8 // SetWatches/SetWatches2 from the Java client
)

type opInfo struct {
	name string // Request.op2String spelling
	tag  string // four-letter lastOp tag shown by the cons command
}

var ops = map[int32]opInfo{
	OpNotification:         {"notification", "UNKN"},
	OpCreate:               {"create", "CREA"},
	OpDelete:               {"delete", "DELE"},
	OpExists:               {"exists", "EXIS"},
	OpGetData:              {"getData", "GETD"},
	OpSetData:              {"setData", "SETD"},
	OpGetACL:               {"getACL", "GETA"},
	OpSetACL:               {"setACL", "SETA"},
	OpGetChildren:          {"getChildren", "GETC"},
	OpSync:                 {"sync", "SYNC"},
	OpPing:                 {"ping", "PING"},
	OpGetChildren2:         {"getChildren2", "GETC"},
	OpCheck:                {"check", "CHEC"},
	OpMulti:                {"multi", "MULT"},
	OpCreate2:              {"create2", "CREA"},
	OpReconfig:             {"reconfig", "RECO"},
	OpCheckWatches:         {"checkWatches", "CHKW"},
	OpRemoveWatches:        {"removeWatches", "REMW"},
	OpCreateContainer:      {"createContainer", "CREA"},
	OpDeleteContainer:      {"deleteContainer", "DELE"},
	OpCreateTTL:            {"createTTL", "CREA"},
	OpMultiRead:            {"multiRead", "MLTR"},
	OpAuth:                 {"auth", "AUTH"},
	OpSetWatches:           {"setWatches", "SETW"},
	OpSASL:                 {"sasl", "SASL"},
	OpGetEphemerals:        {"getEphemerals", "GETE"},
	OpGetAllChildrenNumber: {"getAllChildrenNumber", "GETACN"},
	OpSetWatches2:          {"setWatches2", "STW2"},
	OpAddWatch:             {"addWatch", "ADDW"},
	OpWhoAmI:               {"whoAmI", "HOMI"},
	OpCreateSession:        {"createSession", "SESS"},
	OpCloseSession:         {"closeSession", "CLOS"},
	OpError:                {"error", "UNKN"},
}

// OpName returns the name ZooKeeper uses for an opcode in logs ("create",
// "getData", ...), or "unknown(N)".
func OpName(op int32) string {
	if i, ok := ops[op]; ok {
		return i.name
	}
	return "unknown(" + strconv.Itoa(int(op)) + ")"
}

// OpTag returns the short tag the cons four-letter word prints as a
// connection's last operation (CREA, GETD, STW2, GETACN, ...), or "UNKN".
// Variants share a tag, as in ZooKeeper: every create is CREA, both
// getChildren calls are GETC.
func OpTag(op int32) string {
	if i, ok := ops[op]; ok {
		return i.tag
	}
	return "UNKN"
}
