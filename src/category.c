/* category.c — placeholder until the module lands. */
