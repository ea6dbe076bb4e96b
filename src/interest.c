/* interest.c — placeholder until the module lands. */
