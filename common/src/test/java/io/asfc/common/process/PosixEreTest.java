package io.asfc.common.process;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * The translation against the real thing: for every pattern and command line, bash's {@code [[ =~ ]]}
 * with the translated expression must agree with Java's {@code find()} with the original.
 */
class PosixEreTest {
    private static final List<String> PATTERNS = List.of(
            "airflow (scheduler|executor)|airflow worker -- LocalExecutor",
            "airflow scheduler --? |airflow executor -- |airflow worker -- LocalExecutor",
            "(?:airflow (scheduler|executor)|airflow worker -- LocalExecutor).*" + Pattern.quote("/tmp/junit-1.2/x"),
            "^/usr/bin/python3? .*airflow\\s+scheduler$",
            "scheduler\\d+\\.pid",
            "[a-z]+_[\\d]{2,3}",
            "airflow.*?scheduler",
            "\\(x\\)\\[y\\]\\{z\\}\\*\\+\\?\\|\\.\\$\\^",
            "[^ ]+ -D\\b?");

    private static final List<String> LINES = List.of(
            "airflow scheduler",
            "airflow scheduler -D",
            "airflow scheduler -- DagFileProcessorManager",
            "airflow scheduler - DagFileProcessor /dags/x.py",
            "airflow worker -- LocalExecutor: 1",
            "airflow celery worker",
            "airflow webserver",
            "python3 /tmp/junit-1.2/x/airflow_standin.py airflow scheduler",
            "airflow scheduler /tmp/junit-1.2/x/airflow_standin.py",
            "airflow scheduler /tmp/junit-102/x/airflow_standin.py",
            "/usr/bin/python3 /opt/airflow airflow  scheduler",
            "/usr/bin/python /opt/airflow airflow scheduler",
            "scheduler42.pid",
            "schedulerX.pid",
            "abc_123",
            "abc_1",
            "(x)[y]{z}*+?|.$^",
            "x -D");

    @Test
    void bashAgreesWithJavaOnEveryLine() throws Exception {
        List<String> disagreements = new ArrayList<>();
        for (String java : PATTERNS) {
            PosixEre.Result r = PosixEre.of(java);
            if (r.ere().isEmpty()) {
                assertTrue(java.contains("\\b"), () -> java + ": " + r.problem());
                continue;
            }
            Pattern p = Pattern.compile(java);
            for (String line : LINES) {
                boolean inJava = p.matcher(line).find();
                boolean inBash = bashMatches(r.ere().get(), line);
                if (inJava != inBash) {
                    disagreements.add(java + " -> " + r.ere().get() + " on \"" + line + "\": java " + inJava + ", bash "
                            + inBash);
                }
            }
        }
        assertEquals(List.of(), disagreements);
    }

    @Test
    void whatAnEreCannotSayIsRefusedWithAReason() {
        for (String java : List.of("a(?=b)", "(?i)airflow", "(a)\\1", "a*+", "\\bairflow", "[a-z&&[^x]]", "[\\]]")) {
            PosixEre.Result r = PosixEre.of(java);
            assertTrue(r.ere().isEmpty(), java + " -> " + r.ere());
            assertTrue(r.problem().contains("POSIX"), r.problem());
        }
    }

    private static boolean bashMatches(String ere, String line) throws IOException, InterruptedException {
        Process p = new ProcessBuilder("/bin/bash", "-c", "[[ $1 =~ $2 ]]", "test", line, ere)
                .redirectErrorStream(true)
                .start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        int code = p.waitFor();
        if (code > 1) {
            throw new AssertionError("bash could not use " + ere + " (" + code + "): " + out);
        }
        return code == 0;
    }
}
