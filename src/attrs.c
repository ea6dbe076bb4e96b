/* attrs.c — placeholder until the module lands. */
