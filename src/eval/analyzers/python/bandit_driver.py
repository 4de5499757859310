"""Runs Bandit (its command line, same arguments) under the system Python that has it installed.

Debian's bandit 1.6.2 predates Python 3.8's `ast.Constant`: its node visitor dispatches on the
class name, finds no `visit_Constant`, and so its string checks (B105-B107 hard-coded passwords,
B608 SQL built from strings, ...) never see a string on Python >= 3.8. This driver adds the
dispatch newer Bandit has (strings to visit_Str, bytes to visit_Bytes) when it is missing, then
hands over to Bandit's own main(). `--list-ids` prints the ids of the installed tests instead."""
import ast
import sys

from bandit.core import node_visitor


def _patch():
    cls = node_visitor.BanditNodeVisitor
    if hasattr(cls, "visit_Constant"):
        return

    def visit_Constant(self, node):
        if isinstance(node.value, str) and hasattr(self, "visit_Str"):
            self.visit_Str(node)
        elif isinstance(node.value, bytes) and hasattr(self, "visit_Bytes"):
            self.visit_Bytes(node)
        else:
            self.update_scores(self.tester.run_tests(self.context, "Constant"))

    cls.visit_Constant = visit_Constant
    assert ast  # the module's ast is the one Bandit parses with


def main():
    _patch()
    if sys.argv[1:] == ["--list-ids"]:
        from bandit.core import extension_loader
        ids = set(extension_loader.MANAGER.plugins_by_id) | set(extension_loader.MANAGER.blacklist_by_id)
        print("\n".join(sorted(ids)))
        return 0
    from bandit.cli.main import main as bandit_main
    sys.argv[0] = "bandit"
    return bandit_main()


if __name__ == "__main__":
    sys.exit(main())
