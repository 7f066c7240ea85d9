package io.asfc.agent.migration;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class ShellFixTest {
    @ParameterizedTest
    @CsvSource(
            delimiter = '|',
            value = {
                "export A=/x;;nohup airflow scheduler >> ~/s.log &|export A=/x;nohup airflow scheduler >> ~/s.log &",
                "a ; ; b|a ;  b",
                ";a|a",
                "nohup a &;|nohup a &",
                "nohup a &;;|nohup a &",
                "a &; b|a & b",
            })
    void emptyCommandsAreDropped(String command, String fixed) {
        ShellFix.Result result = ShellFix.fix(command);

        assertEquals(fixed, result.command());
        assertTrue(result.droppedEmptyCommands());
    }

    @ParameterizedTest
    @ValueSource(
            strings = {
                "a; b && c || d | e",
                "nohup airflow scheduler >> log 2>&1 &",
                "airflow scheduler &> log &",
                "echo ';;' \";;\" \\;\\;",
                "case $x in a) b;; *) c;; esac",
                "for pid in `ps -ef | grep x` ; do kill $pid ; done",
                "a # b;;",
                "sudo systemctl restart airflow-scheduler",
            })
    void aValidCommandIsLeftAlone(String command) {
        ShellFix.Result result = ShellFix.fix(command);

        assertEquals(command, result.command());
        assertFalse(result.changed());
    }

    @ParameterizedTest
    @CsvSource(
            delimiter = '|',
            value = {
                "source /v/bin/activate; airflow scheduler|. /v/bin/activate; airflow scheduler",
                "export A=1;source /v/bin/activate|export A=1;. /v/bin/activate",
                "a && source b|a && . b",
            })
    void sourceBecomesDotWhereACommandStarts(String command, String fixed) {
        ShellFix.Result result = ShellFix.fix(command);

        assertEquals(fixed, result.command());
        assertTrue(result.sourceToDot());
    }

    @Test
    void aNewlineStartsACommand() {
        assertEquals("a\n. b", ShellFix.fix("a\nsource b").command());
    }

    @ParameterizedTest
    @ValueSource(strings = {"echo source x", "resource x", "'source' x", "sourcex"})
    void sourceAsAnArgumentOrPartOfAWordStays(String command) {
        assertEquals(command, ShellFix.fix(command).command());
    }
}
