/* interner.c — placeholder until the module lands. */
