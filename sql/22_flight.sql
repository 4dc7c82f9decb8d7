-- Flight history: each leg of the journey with place, country, dates and the
-- coded reasons for leaving.  refuge.flight_route() draws the route.

create table refuge.flight_leg (
    id              uuid primary key default gen_random_uuid(),
    individual_id   uuid not null references refuge.individual on delete cascade,
    seq             integer not null check (seq >= 1),
    place           text,
    country         text not null,
    location        geometry(Point, 4326),
    arrived_on      date,
    departed_on     date,
    date_precision  text not null default 'EXACT',
    reasons         text[] not null default '{}',
    comment         text,
    created_at      timestamptz not null default now(),
    created_by      name not null default current_user,
    updated_at      timestamptz not null default now(),
    updated_by      name not null default current_user,
    unique (individual_id, seq),
    check (departed_on is null or arrived_on is null or departed_on >= arrived_on)
);
comment on table refuge.flight_leg is 'one stop of a journey: seq 1 is where the person fled from, the last where they arrived';
comment on column refuge.flight_leg.reasons is 'codes of refuge.flight_reason for leaving this place';
