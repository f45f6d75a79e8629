// Command etcd is the etcd server at the version kube-apiserver was built and
// tested against, built from its Go module because Debian's etcd is older.
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() {
	etcdmain.Main(os.Args)
}
