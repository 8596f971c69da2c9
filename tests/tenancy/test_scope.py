"""TenantScope: the id sets DESIGN.md decides, per role and place in the tree."""

from __future__ import annotations

from app.tenancy.scope import TenantNode, Tree, for_user, system_scope

TREE = Tree.of(
    [
        TenantNode(1, "d4", "师", "division", "active", None),
        TenantNode(2, "r63", "63团", "regiment", "pilot", 1),
        TenantNode(3, "r68", "68团", "regiment", "pilot", 1),
        TenantNode(4, "r63-c", "63团社区", "community", "pilot", 2),
        TenantNode(5, "c1", "直属社区", "community", "pilot", 1),
    ]
)


def test_clerk_reads_and_writes_only_its_centre() -> None:
    scope = for_user(TREE, 2, 10, {2: frozenset({"clerk"})}, False)
    assert scope is not None
    assert scope.read_ids == {2} and scope.write_ids == {2}
    assert scope.shared_ids == {1, 2} and scope.supervise_ids == frozenset()
    assert not scope.can("staff.manage")


def test_manager_of_a_regiment_does_not_see_its_communities() -> None:
    scope = for_user(TREE, 2, 11, {2: frozenset({"manager"})}, False)
    assert scope is not None and scope.read_ids == {2} and scope.can("staff.manage")


def test_division_supervisor_reads_the_subtree_and_writes_only_home() -> None:
    home = for_user(TREE, 1, 12, {1: frozenset({"supervisor"})}, False)
    assert home is not None
    assert home.read_ids == {1, 2, 3, 4, 5} and home.write_ids == {1}
    assert home.supervise_ids == {1, 2, 3, 4, 5}
    visiting = for_user(TREE, 2, 12, {1: frozenset({"supervisor"})}, False)
    assert visiting is not None
    assert visiting.read_ids == {2, 4} and visiting.write_ids == frozenset()
    assert visiting.supervise_ids == {2, 4} and visiting.shared_ids == {1, 2}


def test_no_membership_means_no_scope() -> None:
    assert for_user(TREE, 3, 13, {2: frozenset({"manager"})}, False) is None
    assert for_user(TREE, 1, 13, {2: frozenset({"supervisor"})}, False) is None  # not upward


def test_system_scope_covers_everything_and_is_marked() -> None:
    scope = system_scope(TREE, reason="sweep")
    assert scope.system and scope.read_ids == {1, 2, 3, 4, 5} and scope.reason == "sweep"
