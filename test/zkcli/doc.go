// Package zkcli drives Apache ZooKeeper's command-line client, zkCli.sh from Debian's
// zookeeper package, against zkx (and against ZooKeeper, to keep the expectations honest) and
// checks what a user reads on the terminal. Each session is one JVM fed a script on stdin;
// "ls" of a never-existing marker node between commands splits the output per command.
package zkcli
