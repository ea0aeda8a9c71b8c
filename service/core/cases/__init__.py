"""Dishonesty cases (失信行为认定与惩戒): identification, notice, objection, listing, joint
punishment, credit repair and removal, each step taken by a person and recorded."""
