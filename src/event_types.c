/* event_types.c — placeholder until the module lands. */
