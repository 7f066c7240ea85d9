package io.asfc.agent.supervisor.health;

/** Checks whether the scheduler is healthy. Implemented by {@code HttpHealthProbe}. */
public interface HealthProbe {
    /** One check; never throws and never takes longer than the configured timeout. */
    HealthResult check();
}
