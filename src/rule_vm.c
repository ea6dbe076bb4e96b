/* rule_vm.c — placeholder until the module lands. */
