package ensemble

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"time"

	"github.com/hashicorp/raft"
)

// Membership changes while the ensemble serves. An operator runs
//
//	zkx members list|add|remove --raft HOST:PORT ...
//
// against any member's raft address; a member that does not lead relays
// the request to the leader, which changes raft's configuration (AddVoter,
// AddNonvoter, RemoveServer): the change is itself a log entry, committed
// by the old quorum. A new member is started first with ensemble.join set,
// so it waits to be added instead of bootstrapping an ensemble of its own.

// MemberStatus is one member as the leader's raft configuration has it.
type MemberStatus struct {
	ID     int    `json:"id"`
	Raft   string `json:"raft"`
	Client string `json:"client,omitempty"` // from the configured member list, when known
	Role   string `json:"role"`             // voter or observer
	Leader bool   `json:"leader"`
}

// AdminRequest is a membership request on the admin connection.
type AdminRequest struct {
	Op     string `json:"op"` // list, add, remove
	ID     int    `json:"id,omitempty"`
	Raft   string `json:"raft,omitempty"`
	Client string `json:"client,omitempty"`
	Role   string `json:"role,omitempty"` // voter (default) or observer
	// Relayed is set by a member relaying to the leader: never relayed
	// twice.
	Relayed bool `json:"relayed,omitempty"`
}

// AdminResponse answers an AdminRequest.
type AdminResponse struct {
	Error   string         `json:"error,omitempty"`
	Leader  int            `json:"leader,omitempty"`
	Members []MemberStatus `json:"members,omitempty"`
}

const adminTimeout = 30 * time.Second

// serveAdmin answers one admin request on c.
func (n *Node) serveAdmin(c net.Conn) {
	defer c.Close()
	c.SetDeadline(time.Now().Add(adminTimeout))
	var req AdminRequest
	// A request is a few hundred bytes; never read more than 64 KiB.
	if err := json.NewDecoder(bufio.NewReader(io.LimitReader(c, 64<<10))).Decode(&req); err != nil {
		json.NewEncoder(c).Encode(AdminResponse{Error: "bad request: " + err.Error()})
		return
	}
	resp := n.handleAdmin(req)
	json.NewEncoder(c).Encode(resp)
}

func (n *Node) handleAdmin(req AdminRequest) AdminResponse {
	if n.raft.State() != raft.Leader {
		if req.Relayed {
			return AdminResponse{Error: "not the leader"}
		}
		leader := n.leaderAddr()
		if leader == "" {
			return AdminResponse{Error: "no leader: the ensemble has no quorum now"}
		}
		req.Relayed = true
		resp, err := AdminCall(leader, req)
		if err != nil {
			return AdminResponse{Error: fmt.Sprintf("relay to the leader at %s: %v", leader, err)}
		}
		return resp
	}
	var err error
	switch req.Op {
	case "list":
	case "add":
		err = n.addMember(req)
	case "remove":
		err = n.removeMember(req.ID)
	default:
		err = fmt.Errorf("unknown op %q (want list, add or remove)", req.Op)
	}
	if err != nil {
		return AdminResponse{Error: err.Error()}
	}
	members, leader, err := n.Membership()
	if err != nil {
		return AdminResponse{Error: err.Error()}
	}
	return AdminResponse{Leader: leader, Members: members}
}

func (n *Node) addMember(req AdminRequest) error {
	if req.ID < 1 || req.ID > 255 {
		return fmt.Errorf("id %d is outside 1..255", req.ID)
	}
	if _, _, err := net.SplitHostPort(req.Raft); err != nil {
		return fmt.Errorf("raft address %q: %v", req.Raft, err)
	}
	id := raft.ServerID(strconv.Itoa(req.ID))
	f := n.raft.GetConfiguration()
	if err := f.Error(); err != nil {
		return err
	}
	for _, s := range f.Configuration().Servers {
		if s.ID == id {
			return fmt.Errorf("member %d is already in the ensemble (at %s)", req.ID, s.Address)
		}
		if string(s.Address) == req.Raft {
			return fmt.Errorf("raft address %s is already member %s's", req.Raft, s.ID)
		}
	}
	var fut raft.IndexFuture
	switch req.Role {
	case "", "voter":
		fut = n.raft.AddVoter(id, raft.ServerAddress(req.Raft), 0, adminTimeout)
	case "observer":
		fut = n.raft.AddNonvoter(id, raft.ServerAddress(req.Raft), 0, adminTimeout)
	default:
		return fmt.Errorf("role %q: want voter or observer", req.Role)
	}
	if err := fut.Error(); err != nil {
		return fmt.Errorf("add member %d: %w", req.ID, err)
	}
	n.mmu.Lock()
	if req.Client != "" {
		n.clients[req.ID] = req.Client
	}
	n.mmu.Unlock()
	n.log.Info("member added", "id", req.ID, "raft", req.Raft, "role", req.Role)
	return nil
}

func (n *Node) removeMember(id int) error {
	f := n.raft.GetConfiguration()
	if err := f.Error(); err != nil {
		return err
	}
	sid := raft.ServerID(strconv.Itoa(id))
	found, voters := false, 0
	for _, s := range f.Configuration().Servers {
		if s.ID == sid {
			found = true
		}
		if s.Suffrage == raft.Voter && s.ID != sid {
			voters++
		}
	}
	if !found {
		return fmt.Errorf("member %d is not in the ensemble", id)
	}
	if voters == 0 {
		return fmt.Errorf("member %d is the last voter; removing it would leave no quorum", id)
	}
	if err := n.raft.RemoveServer(sid, 0, adminTimeout).Error(); err != nil {
		return fmt.Errorf("remove member %d: %w", id, err)
	}
	n.log.Info("member removed", "id", id)
	return nil
}

// Membership returns the ensemble's members as this member's raft
// configuration has them, and the leader's id (0 when there is none).
func (n *Node) Membership() ([]MemberStatus, int, error) {
	f := n.raft.GetConfiguration()
	if err := f.Error(); err != nil {
		return nil, 0, err
	}
	_, leaderID := n.raft.LeaderWithID()
	leader, _ := strconv.Atoi(string(leaderID))
	n.mmu.Lock()
	defer n.mmu.Unlock()
	var out []MemberStatus
	for _, s := range f.Configuration().Servers {
		id, _ := strconv.Atoi(string(s.ID))
		role := "voter"
		if s.Suffrage != raft.Voter {
			role = "observer"
		}
		out = append(out, MemberStatus{ID: id, Raft: string(s.Address), Client: n.clients[id], Role: role, Leader: id == leader})
	}
	return out, leader, nil
}

// AdminCall sends one membership request to the member whose raft address
// is addr and returns its answer. An answer that carries an error is
// returned as an error too.
func AdminCall(addr string, req AdminRequest) (AdminResponse, error) {
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		return AdminResponse{}, err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(adminTimeout + 5*time.Second))
	if _, err := c.Write([]byte{muxAdmin}); err != nil {
		return AdminResponse{}, err
	}
	if err := json.NewEncoder(c).Encode(req); err != nil {
		return AdminResponse{}, err
	}
	var resp AdminResponse
	if err := json.NewDecoder(bufio.NewReader(c)).Decode(&resp); err != nil {
		return AdminResponse{}, fmt.Errorf("read answer: %w", err)
	}
	if resp.Error != "" {
		return resp, errors.New(resp.Error)
	}
	return resp, nil
}
