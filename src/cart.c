/* cart.c — placeholder until the module lands. */
