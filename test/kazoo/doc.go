// Package kazoo runs recipes.py — kazoo's Lock, Election, DataWatch, ChildrenWatch and a
// chroot client, with Debian's python3-kazoo under /usr/bin/python3 — against zkx and against
// Apache ZooKeeper, so a failure can be told apart from a problem of the script itself.
package kazoo
