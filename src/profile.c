/* profile.c — placeholder until the module lands. */
