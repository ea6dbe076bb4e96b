/* track.c — placeholder until the module lands. */
