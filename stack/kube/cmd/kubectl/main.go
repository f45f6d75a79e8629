// Command kubectl is the upstream kubectl, built so the local stack does not
// depend on whichever kubectl (if any) the machine has.
package main

import (
	"k8s.io/component-base/cli"
	"k8s.io/kubectl/pkg/cmd"
	"k8s.io/kubectl/pkg/cmd/util"
)

func main() {
	command := cmd.NewDefaultKubectlCommand()
	if err := cli.RunNoErrOutput(command); err != nil {
		// Same as upstream kubectl: print the error the way kubectl users expect.
		util.CheckErr(err)
	}
}
