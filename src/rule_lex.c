/* rule_lex.c — placeholder until the module lands. */
