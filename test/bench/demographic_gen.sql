-- A labelled synthetic population for benchmarking demographic (name and
-- birth date) duplicate detection of refugees (test/bench/demographic.sh).
--
-- select * from dgen.generate(100000) fills dgen.person with 100,000
-- registered people in households, then registers about 3 % of them a
-- second time the way it happens in the field: alone or with their whole
-- household (a member missing or a new one added), in another site or
-- operation, later, with the name spelt another way (transliteration,
-- typing error, parts swapped, dropped or added, typed in the original
-- script) and the birth date off.  dup_of is the label: the pid of the
-- person a record registers again; variant lists the changes made.
--
-- The population is shaped like the East-African operations' caseload
-- (Somali, South Sudanese Dinka and Nuer, Sudanese, Congolese, Eritrean and
-- Ethiopian, Afghan, Syrian/Iraqi/Yemeni), each named the way its culture
-- names people (patronymic chains, family or tribal names, baptismal names)
-- and with common names as common as they are: many different people
-- share "Mohamed Abdi" and a birth year, which is what makes false
-- candidates.  Plain SQL and PL/pgSQL, no extension; the refuge extension
-- is not needed.  Deterministic: the same seed gives the same rows (dates
-- are counted back from current_date, or from the setting dgen.today when
-- set, so a run on another day shifts them).
--
-- Relationship codes are those of refuge's vocabulary (PRM/PRF father and
-- mother, SBM/SBF brother and sister of the principal applicant), so that
-- demographic_load.sql can load the rows as they are.

set client_min_messages = warning;
drop schema if exists dgen cascade;
create schema dgen;

-- name lists, most common first; w is the weight of a draw (Zipf 1/rank^s,
-- or given as name=weight)
create table dgen.name_list (
    list  text not null,
    rnk   integer not null,
    val   text not null,
    w     double precision not null,
    primary key (list, rnk)
);
-- each list spread over 10,000 slots by weight: a draw is an equality join
create table dgen.pick (
    list  text not null,
    slot  integer not null,
    val   text not null,
    primary key (list, slot)
);
-- a Latin name and its usual original-script spelling; grp null for every
-- group, 'AFG' for the Dari/Pashto (Persian letters) spelling of Afghans
create table dgen.script_name (
    latin    text not null,
    script   text not null check (script in ('Arab', 'Ethi')),
    written  text not null,
    grp      text
);
create unique index on dgen.script_name (latin, script, coalesce(grp, ''));
-- two spellings of the same name part; usable both ways.  grp is the
-- orthography: ARA Arabic transliterations, SOM Somali, FRA French (Chad,
-- West Africa), AFG Dari/Pashto, HAB Tigrinya/Amharic, SSD Dinka/Nuer,
-- COD Congolese
create table dgen.variant_pair (
    a    text not null,
    b    text not null,
    grp  text not null,
    primary key (a, b, grp)
);
create index on dgen.variant_pair (lower(a));
create index on dgen.variant_pair (lower(b));
-- neighbouring keys on a QWERTY keyboard, for typing errors
create table dgen.keyboard (key text primary key, near text not null);

create table dgen.person (
    pid                bigint primary key,
    hh                 bigint not null,
    rel                text not null,
    given              text,
    middle             text,
    family             text,
    sex                text not null check (sex in ('F', 'M')),
    dob                date,
    dob_precision      text not null check (dob_precision in ('EXACT', 'YEAR', 'ESTIMATED')),
    birth_country      text,
    place_of_birth     text,
    mother_name        text,
    father_name        text,
    op                 text not null,
    site               text not null,
    registration_date  date not null,
    phone              text,
    script             text,
    script_given       text,
    script_family      text,
    dup_of             bigint,
    variant            text
);
create index on dgen.person (hh);
create index on dgen.person (dup_of) where dup_of is not null;
comment on table dgen.person is 'synthetic registered people: originals first (dup_of null), then planted duplicates (dup_of = pid of the original) and new household members';
comment on column dgen.person.rel is 'PA (one per household), WIF, HUS, SON, DAU, PRM/PRF (father/mother of PA), SBM/SBF (brother/sister of PA), NEP, NCE';
comment on column dgen.person.dob_precision is 'EXACT; YEAR or ESTIMATED: dob is 1 January of the year';
comment on column dgen.person.script is 'Arab or Ethi when an original-script form is recorded in script_given / script_family';
comment on column dgen.person.variant is 'duplicates: the changes made, comma-separated (translit, typo, swap, drop, add, script, dob); empty when none';

-- helpers to write the lists below compactly
create function dgen.add_list(p_list text, p_s double precision, p_vals text) returns void language sql as $$
    insert into dgen.name_list (list, rnk, val, w)
    select p_list, x.n, split_part(x.v, '=', 1),
           case when x.v like '%=%' then split_part(x.v, '=', 2)::double precision else 1 / power(x.n, p_s) end
      from regexp_split_to_table(btrim(p_vals, E' \n\t'), '\s*,\s*') with ordinality x(v, n)
$$;

create function dgen.add_script(p_script text, p_grp text, p_pairs text) returns void language sql as $$
    insert into dgen.script_name (latin, script, written, grp)
    select btrim(split_part(x.v, '=', 1)), p_script, btrim(split_part(x.v, '=', 2)), p_grp
      from regexp_split_to_table(btrim(p_pairs, E' \n\t'), '\s*,\s*') with ordinality x(v, n)
     order by x.n
    on conflict do nothing
$$;

-- every pair within each set ("a,b,c; d,e")
create function dgen.add_variants(p_grp text, p_sets text) returns void language sql as $$
    insert into dgen.variant_pair (a, b, grp)
    select distinct x.v, y.v, p_grp
      from regexp_split_to_table(btrim(p_sets, E' \n\t;'), '\s*;\s*') as s(names)
     cross join lateral regexp_split_to_table(btrim(s.names), '\s*,\s*') with ordinality x(v, i)
     cross join lateral regexp_split_to_table(btrim(s.names), '\s*,\s*') with ordinality y(v, j)
     where x.i < y.j and x.v <> y.v
    on conflict do nothing
$$;

------------------------------------------------------------------------------
-- Given names by group and sex (most common Latin spelling as clerks type
-- it), most common first.  Muslim men's names are the most concentrated.
------------------------------------------------------------------------------
select dgen.add_list('SOM/M', 1.1, '
Mohamed, Ahmed, Abdi, Hassan, Ali, Abdullahi, Abdirahman, Hussein, Omar, Osman, Ibrahim, Yusuf, Mohamud,
Adan, Ismail, Abdikadir, Farah, Muse, Isse, Nur, Jama, Abdirahim, Abdirashid, Abdiaziz, Dahir, Said, Abukar,
Sharif, Yasin, Bashir, Warsame, Guled, Hirsi, Elmi, Hashi, Gedi, Abdinasir, Abdikarim, Abdisalam, Abdiwahab,
Abdifatah, Abdihakim, Abdimalik, Abdinur, Abdiwali, Aweys, Mukhtar, Jibril, Ilyas, Hamza, Liban, Mahad, Roble,
Samatar, Shire, Egal, Ugas, Kahin, Yonis, Nuh, Salad, Bile, Dirie, Awil, Khalif, Barre, Siyad, Abdisamad,
Idris, Mustafa, Salah, Anwar');
select dgen.add_list('SOM/F', 1.0, '
Fatuma, Amina, Halima, Khadija, Asha, Maryan, Hawa, Sahra, Hodan, Safiya, Nasra, Zeinab, Sadia, Rahma, Muna,
Ruqiya, Zamzam, Nimco, Hibo, Sumaya, Kaltun, Fardowsa, Khadra, Deqa, Ubah, Idil, Ayan, Ifrah, Hamdi, Naima,
Najma, Faiza, Qamar, Shukri, Istahil, Fartun, Ilhan, Ladan, Sagal, Nasteho, Bilan, Ebyan, Filsan, Ikran, Hamda,
Ardo, Hinda, Anab, Barwaqo, Shamso, Jawahir, Warda, Dahabo, Habiba, Hafsa, Aisha, Intisar, Luul, Kinsi, Mulki,
Ugbaad, Amran, Nadifa');

select dgen.add_list('SDN/M', 1.1, '
Mohamed, Ahmed, Osman, Abdalla, Ali, Ibrahim, Adam, Hassan, Mustafa, Khalid, Omer, Yousif, Hussein, Abakar,
Ishag, Yagoub, Musa, Babiker, Salih, Abdelrahman, Elsadig, Eltayeb, Elfatih, Abdelaziz, Abdelgadir, Abdelmoneim,
Abdelrahim, Abdelkarim, Abdelbagi, Siddig, Haroun, Idriss, Suleiman, Jibril, Awad, Nasr, Elnour, Hamid, Hamza,
Bakri, Mubarak, Bushra, Mahmoud, Tijani, Mohamedein, Osama, Anwar, Amir, Abdelwahab, Abdelhamid, Abdelmajid,
Daoud, Ismail, Zakaria, Alamin, Eisa, Yahia, Bashir, Fadul, Hamdan, Hammad, Juma, Khamis, Sabir, Taha, Tahir,
Nureldin, Salaheldin, Izzeldin, Kamaleldin, Alaeldin, Badreldin, Sharafeldin');
select dgen.add_list('SDN/F', 1.0, '
Fatima, Amna, Khadija, Aisha, Hawa, Mariam, Zeinab, Halima, Asha, Nafisa, Safia, Mastura, Nour, Sara, Samia,
Suad, Awatif, Ikhlas, Intisar, Hanan, Huda, Hiba, Sumaya, Rasha, Manal, Nawal, Amani, Ilham, Widad, Khadiga,
Aziza, Hadia, Rahma, Salwa, Samah, Sana, Tahani, Wafa, Nada, Nagwa, Mawahib, Hajar, Marwa, Iman, Najla, Sahar,
Salma, Maha, Mona, Asma, Duaa, Alawia, Kaltoum, Rabab, Sakina, Nazik, Ihsan, Safaa, Zahra, Hosna, Fatna');

select dgen.add_list('ARB/M', 1.0, '
Mohammad, Ahmad, Ali, Hussein, Mohammed, Omar, Khaled, Hassan, Mahmoud, Mustafa, Abdullah, Ibrahim, Yousef,
Abdulrahman, Ammar, Abbas, Haider, Kadhim, Jafar, Sajjad, Karrar, Qasim, Yasser, Wissam, Salah, Saleh, Saeed,
Nasser, Yahya, Zakaria, Walid, Tariq, Fadi, Rami, Sami, Hamza, Bilal, Osama, Hisham, Ayman, Emad, Ghassan, Iyad,
Maher, Mazen, Mohannad, Zaid, Ziad, Obaida, Louay, Laith, Yazan, Hamoud, Mohsen, Abdo, Fuad, Adnan, Bassam,
Firas, Samer, Samir, Tamer, Wael, Anas, Majid, Mansour, Nabil, Raed, Riad, Hadi, Abdulkarim, Abdulaziz,
Abdulmalik, Abdulwahab, Khalil, Jamal, Kamal, Mahdi');
select dgen.add_list('ARB/F', 1.0, '
Fatima, Maryam, Zainab, Noor, Sara, Hiba, Aya, Rana, Rasha, Reem, Lina, Dima, Ghada, Hala, Maha, Amal, Asmaa,
Duaa, Israa, Alaa, Bayan, Hanin, Rahaf, Raghad, Joud, Malak, Ruqaya, Shahad, Tabarak, Zahraa, Khadija, Aisha,
Amina, Hanan, Huda, Iman, Jamila, Layla, Manal, Nadia, Najwa, Nawal, Rania, Samira, Salma, Suad, Wafaa, Yasmin,
Mona, Nisreen, Rawan, Sawsan, Shaima, Hind, Marwa, Safaa, Habiba, Hajar, Samar, Razan, Lama, Dalia, Rima,
Sanaa, Abeer, Afaf, Bushra, Hayat');
-- family names: the article is typed with a hyphen most often
select dgen.add_list('ARB/S', 0.8, '
Al-Ali, Al-Hassan, Al-Ahmad, Al-Khalil, Al-Hussein, Al-Mohammad, Al-Omar, Al-Saleh, Al-Abdullah, Hamdan,
Darwish, Haddad, Khalil, Al-Masri, Al-Halabi, Al-Homsi, Al-Shami, Al-Jubouri, Al-Dulaimi, Al-Obaidi, Al-Tamimi,
Al-Zubaidi, Al-Shammari, Al-Rubaie, Al-Saadi, Al-Kubaisi, Al-Janabi, Al-Hashimi, Al-Khatib, Al-Najjar,
Al-Hakim, Al-Sayed, Al-Hadrami, Al-Ahdal, Al-Awlaki, Al-Amoudi, Al-Hamdani, Al-Maqtari, Al-Qadi, Al-Hariri,
Al-Zoubi, Al-Rifai, Al-Kurdi, Al-Sheikh, Al-Hamwi, Kanaan, Suleiman, Ibrahim, Mahmoud, Othman, Mustafa,
Hussein, Abbas, Jaber, Salman, Younes, Nasser, Hamoud, Saeed, Al-Bakri, Al-Azzawi, Al-Khafaji, Al-Musawi,
Al-Hilali, Al-Mansour');

select dgen.add_list('AFG/M', 1.0, '
Mohammad, Ahmad, Ali, Hussain, Ghulam, Mahmood, Abdullah, Hamid, Rahim, Karim, Nasir, Najib, Farid, Habib,
Sayed, Jawad, Javid, Khalil, Masood, Mirwais, Mustafa, Naveed, Omid, Qasim, Rahmatullah, Hamidullah, Aminullah,
Asadullah, Ehsanullah, Hekmatullah, Inayatullah, Najibullah, Zabihullah, Samiullah, Gul, Gulbuddin, Shah, Wali,
Zahir, Zalmai, Reza, Mehdi, Jamshid, Farhad, Fawad, Idrees, Ismail, Ibrahim, Yousuf, Bilal, Sohail, Shafiq,
Tariq, Wahid, Zia, Ajmal, Asif, Aziz, Basir, Daud, Emal, Fahim, Haroon, Jalil, Latif, Mansoor, Matin, Nabi,
Noor, Obaid, Qadir, Rashid, Sadiq, Sharif, Shams, Sultan, Yaqub, Zubair, Hassan, Omar');
select dgen.add_list('AFG/F', 1.0, '
Fatima, Maryam, Zahra, Masooma, Shabnam, Nargis, Parwana, Fariba, Farzana, Gulalai, Hamida, Khadija, Laila,
Mahbooba, Malalai, Marzia, Mina, Nadia, Nasima, Nazanin, Nilofar, Parisa, Rahima, Roya, Sakina, Samira,
Shakila, Sharifa, Sima, Soraya, Tahmina, Wahida, Zarghona, Zainab, Zarmina, Zakia, Latifa, Habiba, Halima,
Bibi, Gulnaz, Homa, Freshta, Hasina, Jamila, Karima, Kubra, Mahnaz, Munira, Nafisa, Najiba, Nasrin, Palwasha,
Qudsia, Rabia, Safia, Saleha, Shirin, Sohaila, Tamana, Yalda, Zohra, Arezo, Sediqa, Frozan, Marwa, Malika,
Shukria, Razia');
-- tribal and family names
select dgen.add_list('AFG/S', 0.8, '
Ahmadzai, Karimi, Rahimi, Hashimi, Mohammadi, Noori, Sultani, Hussaini, Amiri, Azizi, Haidari, Jalali, Niazi,
Safi, Sharifi, Wardak, Yusufzai, Durrani, Popal, Barakzai, Nazari, Sadat, Hakimi, Habibi, Rasuli, Qaderi,
Rezaei, Jafari, Mohseni, Hamidi, Ahmadi, Akbari, Ansari, Faizi, Hotak, Jamali, Rahmani, Samadi, Shinwari,
Taheri, Zamani, Stanekzai, Kakar, Mangal, Zadran, Popalzai, Kohistani, Nuristani, Panjshiri, Ghafoori,
Alokozai, Achakzai');

-- Eritrean and Ethiopian (Tigrinya and Amharic)
select dgen.add_list('HAB/M', 0.9, '
Tesfaye, Yohannes, Dawit, Daniel, Solomon, Mikael, Tekle, Gebremariam, Haile, Berhane, Kidane, Mehari, Tsegay,
Gebre, Yonas, Samuel, Abraham, Amanuel, Filmon, Habtom, Efrem, Isaias, Tewelde, Yemane, Zerai, Asmerom, Aron,
Biniam, Ermias, Fitsum, Goitom, Henok, Kibrom, Mebrahtu, Merhawi, Mussie, Nahom, Robel, Semere, Simon, Teklay,
Yosief, Alem, Angesom, Bereket, Eyob, Fikru, Girmay, Hagos, Kahsay, Mengistu, Meles, Negasi, Tekeste, Welday,
Yirga, Abel, Elias, Hadush, Kiros, Mesfin, Asefaw, Gebremeskel, Habte, Medhanie, Awet, Abebe, Alemayehu,
Bekele, Girma, Kebede, Tadesse, Getachew, Tewodros, Mulugeta, Negash, Gebremedhin, Gebrehiwet, Gebreyesus,
Gebremichael, Hailemariam, Teklehaimanot, Tesfamariam, Tesfamichael, Woldemariam, Weldu, Okbay, Berhe, Gabriel');
select dgen.add_list('HAB/F', 0.9, '
Tigist, Helen, Selam, Senait, Almaz, Meron, Hiwet, Yordanos, Rahel, Saba, Mebrat, Abeba, Aster, Azeb, Birtukan,
Genet, Hanna, Kidist, Lemlem, Lidya, Luwam, Mekdes, Meseret, Mulu, Nardos, Rahwa, Ruth, Semhar, Selamawit,
Tsega, Tsehay, Winta, Yohana, Zewdi, Elsa, Eden, Feven, Freweini, Hadas, Letemariam, Letebrhan, Mehret, Sara,
Tsige, Weini, Yeshi, Zufan, Mariam, Tirhas, Akberet, Abrehet, Alganesh, Desta, Etenesh, Fana, Gelila, Hirut,
Kokeb, Medhin, Netsanet, Rigbe, Roza, Sosina, Tsion, Yodit, Aberash, Workenesh, Bezawit, Eyerusalem, Haimanot,
Mahlet, Samrawit, Wubit');

-- Dinka and Nuer own names; a baptismal name (SSC) comes first for about a third
select dgen.add_list('DIN/M', 0.9, '
Deng, Garang, Majok, Mabior, Akol, Bol, Chol, Kuol, Malual, Manyang, Mayen, Makuei, Thon, Ajak, Atem, Aguer,
Akech, Dut, Kuot, Kur, Lual, Madut, Majak, Mading, Makur, Malek, Mangar, Marial, Mawien, Mayom, Mabil, Ngor,
Nhial, Panchol, Riak, Ring, Thiong, Wol, Yai, Yak, Anyang, Arop, Awan, Ayuen, Biar, Bior, Chan, Dau, Diing,
Gak, Gong, Jok, Kon, Kuany, Kuir, Kuek, Lueth, Maker, Maketh, Manyok, Mathiang, Mayar, Yel, Alier, Agok, Akuei,
Apach, Athian, Ayiik, Ayom');
select dgen.add_list('DIN/F', 0.9, '
Achol, Adut, Aluel, Ayen, Nyandeng, Abuk, Achan, Akuach, Adau, Adhieu, Agau, Agot, Ajok, Akon, Akuol, Alek,
Alual, Amer, Amou, Angeth, Anok, Arek, Athieng, Atong, Awut, Ayak, Ayor, Nyibol, Nyanut, Nyanwut, Abul, Achai,
Achiek, Adeng, Adhel, Adol, Agum, Ajah, Ajang, Akur, Alakiir, Alith, Aluat, Amel, Anger, Apajok, Apiu, Arok,
Athok, Atim, Awien, Ayiel, Ayuel, Nyanchol, Nyankiir, Abang, Ajith, Nyanagar, Akuien, Nyanbol');
select dgen.add_list('NUE/M', 0.9, '
Gatluak, Chuol, Gatkuoth, Riek, Gatdet, Gatwech, Duoth, Machar, Taban, Gai, Both, Buom, Dak, Diew, Duop, Gach,
Gatjang, Gatmai, Jal, Jock, Kang, Keat, Kuey, Lam, Luak, Mach, Nyuon, Pal, Puok, Reath, Ruach, Tut, Wal, Wiyual,
Yien, Kueth, Kor, Koang, Kun, Lul, Nyang, Nyok, Pouch, Rut, Thok, Tap, Teny, Tong, Wuor, Biel, Bichiok, Chuoi,
Dong, Duol, Gatbel, Gatchang, Gatkek, Gatnor, Gatpan, Gatyiel, Kulang, Kuach, Kuon, Lony, Majiok, Makuach,
Mut, Nguot, Nyuot, Puot, Yoal, Kuich');
select dgen.add_list('NUE/F', 0.9, '
Nyakuoth, Nyamal, Nyaluak, Nyachuol, Nyabol, Nyagoa, Nyadak, Nyakang, Nyanhial, Nyaruach, Nyawal, Nyaduoth,
Nyagai, Nyabuom, Nyachang, Nyajal, Nyakuey, Nyalam, Nyaluol, Nyamach, Nyanyang, Nyapal, Nyareath, Nyatut,
Nyawech, Nyayien, Nyaboth, Nyadiew, Nyagach, Nyakeat, Nyakoang, Nyalony, Nyamuon, Nyanguot, Nyapuok, Nyarut,
Nyathok, Nyateny, Nyawuor, Nyabiel, Nyachuoi, Nyadong, Nyagatluak, Nyakor, Nyakun, Nyalul, Nyamut, Nyanyok,
Nyapuot, Nyariak, Nyatap, Nyayoal, Nyakuich, Nyaduop, Nyagatwech, Nyawan, Nyaliep, Nyandit, Nyabang, Nyakim');
select dgen.add_list('SSC/M', 1.0, '
John, Peter, James, Joseph, David, Daniel, Michael, Samuel, Simon, Paul, Stephen, Gabriel, Emmanuel, Isaac,
Abraham, Jacob, Philip, Matthew, Mark, Moses, Santino, Lino, Joshua, Elijah, William, George, Thomas, Andrew,
Martin, Charles, Richard, Patrick, Benjamin, Francis, Anthony, Alfred, Angelo, Dominic, Luka, Noah, Solomon,
Justin, Bernard, Vincent, Marko');
select dgen.add_list('SSC/F', 1.0, '
Mary, Rebecca, Elizabeth, Martha, Sarah, Grace, Rachel, Esther, Susan, Agnes, Angelina, Monica, Helen,
Christine, Victoria, Regina, Josephine, Margaret, Anna, Teresa, Veronica, Rose, Ruth, Lucy, Joyce, Mercy, Jane,
Priscilla, Deborah, Nancy, Lilian, Alice, Betty, Florence, Janet, Jennifer, Joy, Juliana, Magdalena, Cecilia,
Caroline, Doris, Eunice, Faith');

-- Congolese: Christian (French) names first, Nande birth-order and Swahili names
select dgen.add_list('COD/M', 0.9, '
Jean, Pierre, Jean-Pierre, Emmanuel, Joseph, Patrick, Jean-Claude, Paul, Kambale, Eric, Innocent, Justin, Moise,
Samuel, Daniel, David, Dieudonne, Jean-Paul, Jean-Marie, Kasereka, Elie, Espoir, Faustin, Francois, Paluku,
Gaston, Gilbert, Henri, Jacques, Josue, Jules, Katembo, Muhindo, Alain, Albert, Alexis, Alphonse, Andre,
Augustin, Benjamin, Bernard, Blaise, Jean-Baptiste, Jean-Bosco, Celestin, Charles, Christian, Claude, Desire,
Didier, Etienne, Fabrice, Felix, Fidele, Gedeon, Georges, Germain, Isaac, Jacob, Jeremie, Jonas, Laurent, Leon,
Louis, Lucien, Marc, Martin, Mathieu, Michel, Olivier, Pacifique, Philippe, Prosper, Richard, Serge, Simon,
Thomas, Vincent, Zacharie, Kakule, Mumbere, Bahati, Baraka, Amani, Riziki, Shukuru, Mugisho, Byamungu, Tumaini');
select dgen.add_list('COD/F', 0.9, '
Marie, Jeanne, Esther, Ruth, Rachel, Sarah, Deborah, Grace, Josephine, Anne, Christine, Claudine, Elisabeth,
Francine, Chantal, Solange, Odette, Kahindo, Kavira, Masika, Neema, Furaha, Zawadi, Mapendo, Faida, Sifa,
Vumilia, Kahambu, Kavugho, Mbambu, Aline, Alice, Angelique, Annie, Beatrice, Berthe, Brigitte, Cecile,
Charlotte, Clarisse, Denise, Divine, Esperance, Florence, Georgette, Helene, Immaculee, Jacqueline, Jeannette,
Julienne, Justine, Lydia, Madeleine, Martine, Monique, Nadine, Noella, Pascaline, Patience, Rebecca, Rose,
Sandrine, Therese, Valentine, Veronique, Yvonne, Agnes, Bernadette, Chance, Dorcas, Germaine, Jolie, Josiane,
Leonie, Nathalie, Sylvie');
-- family names (and post-names)
select dgen.add_list('COD/S', 0.8, '
Mutombo, Kabila, Tshibanda, Ilunga, Kabongo, Kalala, Mulumba, Mbuyi, Ngoy, Kasongo, Lukusa, Mukendi, Tshimanga,
Kazadi, Banza, Mwamba, Mbala, Kalonji, Mutabazi, Bahati, Byamungu, Kabuya, Kambale, Muhindo, Paluku, Kasereka,
Bisimwa, Mugisho, Cirhuza, Zihindula, Balagizi, Murhula, Ndayishimiye, Habimana, Hakizimana, Niyonzima,
Nsengiyumva, Uwimana, Ndagijimana, Sebagenzi, Bahizire, Amani, Furaha, Baraka, Riziki, Tumaini, Shukuru,
Mapendo, Safari, Matata, Kakule, Mumbere, Katembo, Masudi, Ramazani, Musafiri, Kyalondawa, Mbusa, Sikuli,
Vahwere, Mulamba, Kayembe, Kanku, Ntumba, Kabeya, Tshilombo, Nkulu, Mwenze, Kalenga, Numbi');

------------------------------------------------------------------------------
-- Places of birth (the capital or largest town first) and sites by group.
------------------------------------------------------------------------------
select dgen.add_list('T/SOM', 1.0, 'Mogadishu, Kismayo, Baidoa, Beledweyne, Galkayo, Bardera, Afgoye, Marka, Jowhar,
Luuq, Dhobley, Garbaharey, Bulo Burde, Hargeisa, Burao, Bosaso, Dinsor, Jilib, Jamame, Wanlaweyn, Balad, Elwak,
Dolow, Hudur, Qoryoley, Buale');
select dgen.add_list('T/ETH-SOM', 1.0, 'Jijiga, Gode, Dolo Ado, Kebri Dahar, Degehabur, Warder, Kelafo, Filtu');
select dgen.add_list('T/SDN', 1.0, 'Khartoum, Omdurman, El Fasher, Nyala, El Geneina, Kassala, Port Sudan, El Obeid,
Kadugli, Wad Madani, Ed Damazin, Zalingei, Kutum, Kosti, Gedaref, Atbara, Tawila, Kabkabiya, Mellit, Sennar');
select dgen.add_list('T/SSD-DIN', 1.0, 'Juba, Bor, Rumbek, Aweil, Wau, Kuajok, Yirol, Tonj, Malakal, Renk, Twic,
Gogrial, Abyei, Cueibet, Pibor, Yei');
select dgen.add_list('T/SSD-NUE', 1.0, 'Bentiu, Malakal, Nasir, Akobo, Leer, Ayod, Fangak, Juba, Ulang, Mayendit,
Panyijiar, Rubkona, Koch, Guit, Lankien, Waat');
select dgen.add_list('T/COD', 1.0, 'Goma, Bukavu, Uvira, Bunia, Beni, Butembo, Rutshuru, Masisi, Kinshasa, Kisangani,
Kalemie, Lubumbashi, Fizi, Walikale, Kalehe, Walungu, Baraka, Mwenga, Shabunda, Djugu, Mahagi, Aru, Kiwanja,
Kamanyola');
select dgen.add_list('T/ERI', 1.0, 'Asmara, Keren, Mendefera, Adi Keyh, Dekemhare, Massawa, Barentu, Senafe, Adi Quala,
Tesseney, Agordat, Segheneyti, Areza, Ghinda');
select dgen.add_list('T/ETH', 1.0, 'Addis Ababa, Mekelle, Adigrat, Axum, Shire, Gondar, Dessie, Bahir Dar, Humera, Adwa,
Alamata, Debre Markos, Hawassa, Jimma, Dire Dawa, Nekemte');
select dgen.add_list('T/AFG', 1.0, 'Kabul, Herat, Kandahar, Mazar-i-Sharif, Jalalabad, Kunduz, Ghazni, Baghlan, Bamyan,
Lashkar Gah, Khost, Gardez, Pul-e-Khumri, Faizabad, Taloqan, Sheberghan, Maidan Shahr, Charikar');
select dgen.add_list('T/SYR', 1.0, 'Damascus, Aleppo, Homs, Hama, Daraa, Deir ez-Zor, Idlib, Raqqa, Latakia, Qamishli,
Hasakah, Tartus');
select dgen.add_list('T/IRQ', 1.0, 'Baghdad, Mosul, Basra, Kirkuk, Erbil, Fallujah, Ramadi, Tikrit, Najaf, Karbala,
Sulaymaniyah, Samarra, Baqubah, Nasiriyah');
select dgen.add_list('T/YEM', 1.0, 'Sanaa, Aden, Taiz, Hodeidah, Ibb, Marib, Mukalla, Dhamar, Saada, Amran, Hajjah, Lahij');

-- where each group is registered (operation:site=weight)
select dgen.add_list('S/SOM', 1, 'KEN:DADAAB=55, KEN:NAIROBI=18, KEN:KAKUMA=10, UGA:KAMPALA=10, UGA:NAKIVALE=7');
select dgen.add_list('S/DIN', 1, 'KEN:KAKUMA=45, UGA:KYANGWALI=20, UGA:NAKIVALE=15, KEN:NAIROBI=10, UGA:KAMPALA=10');
select dgen.add_list('S/NUE', 1, 'KEN:KAKUMA=40, UGA:NAKIVALE=25, UGA:KYANGWALI=20, KEN:NAIROBI=8, UGA:KAMPALA=7');
select dgen.add_list('S/SDN', 1, 'KEN:KAKUMA=45, UGA:KYANGWALI=15, UGA:KAMPALA=15, KEN:NAIROBI=15, UGA:NAKIVALE=10');
select dgen.add_list('S/COD', 1, 'UGA:NAKIVALE=40, UGA:KYANGWALI=30, UGA:KAMPALA=12, KEN:KAKUMA=12, KEN:NAIROBI=6');
select dgen.add_list('S/HAB', 1, 'UGA:KAMPALA=30, KEN:NAIROBI=25, UGA:NAKIVALE=20, KEN:KAKUMA=20, UGA:KYANGWALI=5');
select dgen.add_list('S/AFG', 1, 'UGA:KAMPALA=50, KEN:NAIROBI=45, UGA:NAKIVALE=5');
select dgen.add_list('S/ARB', 1, 'KEN:NAIROBI=40, UGA:KAMPALA=40, KEN:KAKUMA=10, UGA:NAKIVALE=10');

insert into dgen.pick (list, slot, val)
select l.list, s, l.val
  from (select list, val,
               round(10000 * (sum(w) over (partition by list order by rnk) - w) / sum(w) over (partition by list))::integer as lo,
               round(10000 * sum(w) over (partition by list order by rnk) / sum(w) over (partition by list))::integer as hi
          from dgen.name_list) l
 cross join generate_series(l.lo + 1, l.hi) s;

------------------------------------------------------------------------------
-- Original-script spellings.  Only names whose usual spelling is certain;
-- names without one (most Somali-only, Dinka, Nuer, Congolese names) get
-- no original-script form.
------------------------------------------------------------------------------
-- Arabic script: Arabic-origin names of Somalis, Sudanese, Syrians, Iraqis, Yemenis
select dgen.add_script('Arab', null, '
Mohamed=محمد, Mohammed=محمد, Mohammad=محمد, Muhammad=محمد, Mohamad=محمد, Mahamat=محمد, Ahmed=أحمد, Ahmad=أحمد,
Ali=علي, Hassan=حسن, Hasan=حسن, Hussein=حسين, Hussain=حسين, Omar=عمر, Omer=عمر, Umar=عمر, Osman=عثمان,
Othman=عثمان, Usman=عثمان, Abdullahi=عبد الله, Abdalla=عبد الله, Abdallah=عبد الله, Abdullah=عبد الله,
Abdirahman=عبد الرحمن, Abdulrahman=عبد الرحمن, Abdelrahman=عبد الرحمن, Abdi=عبدي, Ibrahim=إبراهيم,
Ismail=إسماعيل, Yusuf=يوسف, Yousef=يوسف, Yousif=يوسف, Youssef=يوسف, Mohamud=محمود, Mahmoud=محمود,
Mahamud=محمود, Adan=آدم, Aden=آدم, Adam=آدم, Muse=موسى, Musa=موسى, Isse=عيسى, Issa=عيسى, Eisa=عيسى, Nur=نور,
Nour=نور, Noor=نور, Jama=جامع, Dahir=ظاهر, Said=سعيد, Saeed=سعيد, Abukar=أبو بكر, Abakar=أبكر, Sharif=شريف,
Yasin=ياسين, Bashir=بشير, Abdikadir=عبد القادر, Abdelgadir=عبد القادر, Abdulkadir=عبد القادر,
Abdirahim=عبد الرحيم, Abdelrahim=عبد الرحيم, Abdirashid=عبد الرشيد, Abdiaziz=عبد العزيز, Abdelaziz=عبد العزيز,
Abdulaziz=عبد العزيز, Abdinasir=عبد الناصر, Abdikarim=عبد الكريم, Abdelkarim=عبد الكريم,
Abdulkarim=عبد الكريم, Abdisalam=عبد السلام, Abdiwahab=عبد الوهاب, Abdelwahab=عبد الوهاب,
Abdulwahab=عبد الوهاب, Abdifatah=عبد الفتاح, Abdihakim=عبد الحكيم, Abdimalik=عبد الملك, Abdulmalik=عبد الملك,
Abdinur=عبد النور, Abdiwali=عبد الولي, Abdisamad=عبد الصمد, Aweys=أويس, Mukhtar=مختار, Jibril=جبريل,
Ilyas=إلياس, Hamza=حمزة, Idris=إدريس, Idriss=إدريس, Mustafa=مصطفى, Salah=صلاح, Anwar=أنور,
Ishag=إسحاق, Yagoub=يعقوب, Babiker=بابكر, Salih=صالح, Saleh=صالح, Elsadig=الصادق, Eltayeb=الطيب,
Elfatih=الفاتح, Abdelmoneim=عبد المنعم, Abdelbagi=عبد الباقي, Siddig=صديق, Haroun=هارون, Suleiman=سليمان,
Awad=عوض, Nasr=نصر, Elnour=النور, Hamid=حامد, Bakri=بكري, Mubarak=مبارك, Bushra=بشرى, Tijani=التجاني,
Mohamedein=محمدين, Osama=أسامة, Amir=أمير, Abdelhamid=عبد الحميد, Abdelmajid=عبد المجيد, Daoud=داود,
Zakaria=زكريا, Alamin=الأمين, Yahia=يحيى, Yahya=يحيى, Fadul=فضل, Hamdan=حمدان, Hammad=حماد, Juma=جمعة,
Khamis=خميس, Sabir=صابر, Taha=طه, Tahir=طاهر, Nureldin=نور الدين, Salaheldin=صلاح الدين, Izzeldin=عز الدين,
Kamaleldin=كمال الدين, Alaeldin=علاء الدين, Badreldin=بدر الدين, Sharafeldin=شرف الدين, Khalid=خالد,
Khaled=خالد, Ammar=عمار, Abbas=عباس, Haider=حيدر, Kadhim=كاظم, Jafar=جعفر, Sajjad=سجاد, Karrar=كرار,
Qasim=قاسم, Yasser=ياسر, Wissam=وسام, Nasser=ناصر, Walid=وليد, Tariq=طارق, Fadi=فادي, Rami=رامي, Sami=سامي,
Bilal=بلال, Hisham=هشام, Ayman=أيمن, Emad=عماد, Ghassan=غسان, Iyad=إياد, Maher=ماهر, Mazen=مازن,
Mohannad=مهند, Zaid=زيد, Ziad=زياد, Obaida=عبيدة, Louay=لؤي, Laith=ليث, Yazan=يزن, Hamoud=حمود, Mohsen=محسن,
Abdo=عبده, Fuad=فؤاد, Adnan=عدنان, Bassam=بسام, Firas=فراس, Samer=سامر, Samir=سمير, Tamer=تامر, Wael=وائل,
Anas=أنس, Majid=ماجد, Mansour=منصور, Nabil=نبيل, Raed=رائد, Riad=رياض, Hadi=هادي, Khalil=خليل, Jamal=جمال,
Kamal=كمال, Mahdi=مهدي,
Fatuma=فاطمة, Fatima=فاطمة, Fatma=فاطمة, Amina=آمنة, Amna=آمنة, Halima=حليمة, Khadija=خديجة, Khadiga=خديجة,
Asha=عائشة, Aisha=عائشة, Maryan=مريم, Mariam=مريم, Maryam=مريم, Hawa=حواء, Zeinab=زينب, Zainab=زينب,
Safiya=صفية, Safia=صفية, Sadia=سعدية, Rahma=رحمة, Muna=منى, Mona=منى, Ruqiya=رقية, Ruqaya=رقية, Zamzam=زمزم,
Nimco=نعمة, Hibo=هبة, Hiba=هبة, Sumaya=سمية, Kaltun=كلثوم, Kaltoum=كلثوم, Fardowsa=فردوس, Khadra=خضرة,
Naima=نعيمة, Najma=نجمة, Faiza=فائزة, Qamar=قمر, Jawahir=جواهر, Warda=وردة, Habiba=حبيبة, Hafsa=حفصة,
Intisar=انتصار, Nadifa=نظيفة, Nafisa=نفيسة, Mastura=مستورة, Sara=سارة, Samia=سامية, Suad=سعاد, Awatif=عواطف,
Ikhlas=إخلاص, Hanan=حنان, Huda=هدى, Rasha=رشا, Manal=منال, Nawal=نوال, Amani=أماني, Ilham=إلهام, Widad=وداد,
Aziza=عزيزة, Hadia=هادية, Salwa=سلوى, Samah=سماح, Sana=سناء, Sanaa=سناء, Tahani=تهاني, Wafa=وفاء, Wafaa=وفاء,
Nada=ندى, Nagwa=نجوى, Najwa=نجوى, Mawahib=مواهب, Hajar=هاجر, Marwa=مروة, Iman=إيمان, Najla=نجلاء, Sahar=سحر,
Salma=سلمى, Maha=مها, Asma=أسماء, Asmaa=أسماء, Duaa=دعاء, Alawia=علوية, Rabab=رباب, Sakina=سكينة, Nazik=نازك,
Ihsan=إحسان, Safaa=صفاء, Aya=آية, Rana=رنا, Reem=ريم, Lina=لينا, Dima=ديما, Ghada=غادة, Hala=هالة, Amal=أمل,
Israa=إسراء, Alaa=آلاء, Bayan=بيان, Hanin=حنين, Rahaf=رهف, Raghad=رغد, Joud=جود, Malak=ملك, Shahad=شهد,
Tabarak=تبارك, Zahraa=زهراء, Jamila=جميلة, Layla=ليلى, Nadia=نادية, Rania=رانيا, Samira=سميرة, Yasmin=ياسمين,
Nisreen=نسرين, Rawan=روان, Sawsan=سوسن, Shaima=شيماء, Hind=هند, Samar=سمر, Razan=رزان, Lama=لمى, Dalia=داليا,
Rima=ريما, Abeer=عبير, Afaf=عفاف, Hayat=حياة,
Al-Ali=العلي, Al-Hassan=الحسن, Al-Ahmad=الأحمد, Al-Khalil=الخليل, Al-Hussein=الحسين, Al-Mohammad=المحمد,
Al-Omar=العمر, Al-Saleh=الصالح, Al-Abdullah=العبدالله, Darwish=درويش, Haddad=حداد, Al-Masri=المصري,
Al-Halabi=الحلبي, Al-Homsi=الحمصي, Al-Shami=الشامي, Al-Jubouri=الجبوري, Al-Dulaimi=الدليمي,
Al-Obaidi=العبيدي, Al-Tamimi=التميمي, Al-Zubaidi=الزبيدي, Al-Shammari=الشمري, Al-Rubaie=الربيعي,
Al-Saadi=السعدي, Al-Kubaisi=الكبيسي, Al-Janabi=الجنابي, Al-Hashimi=الهاشمي, Al-Khatib=الخطيب,
Al-Najjar=النجار, Al-Hakim=الحكيم, Al-Sayed=السيد, Al-Hadrami=الحضرمي, Al-Ahdal=الأهدل, Al-Awlaki=العولقي,
Al-Amoudi=العمودي, Al-Hamdani=الهمداني, Al-Maqtari=المقطري, Al-Qadi=القاضي, Al-Hariri=الحريري,
Al-Zoubi=الزعبي, Al-Rifai=الرفاعي, Al-Kurdi=الكردي, Al-Sheikh=الشيخ, Al-Hamwi=الحموي, Kanaan=كنعان,
Jaber=جابر, Salman=سلمان, Younes=يونس, Al-Bakri=البكري, Al-Azzawi=العزاوي, Al-Khafaji=الخفاجي,
Al-Musawi=الموسوي, Al-Hilali=الهلالي, Al-Mansour=المنصور');

-- Afghans: Dari/Pashto spelling (Persian yeh and kaf, final heh, no hamza seat)
select dgen.add_script('Arab', 'AFG', '
Mohammad=محمد, Ahmad=احمد, Ali=علی, Hussain=حسین, Ghulam=غلام, Mahmood=محمود, Abdullah=عبدالله, Hamid=حمید,
Rahim=رحیم, Karim=کریم, Nasir=ناصر, Najib=نجیب, Farid=فرید, Habib=حبیب, Sayed=سید, Jawad=جواد, Javid=جاوید,
Khalil=خلیل, Masood=مسعود, Mirwais=میرویس, Mustafa=مصطفی, Naveed=نوید, Omid=امید, Qasim=قاسم,
Rahmatullah=رحمت الله, Hamidullah=حمید الله, Aminullah=امین الله, Asadullah=اسد الله, Ehsanullah=احسان الله,
Hekmatullah=حکمت الله, Inayatullah=عنایت الله, Najibullah=نجیب الله, Zabihullah=ذبیح الله, Samiullah=سمیع الله,
Gul=گل, Gulbuddin=گلبدین, Shah=شاه, Wali=ولی, Zahir=ظاهر, Zalmai=زلمی, Reza=رضا, Mehdi=مهدی, Jamshid=جمشید,
Farhad=فرهاد, Fawad=فواد, Idrees=ادریس, Ismail=اسماعیل, Ibrahim=ابراهیم, Yousuf=یوسف, Bilal=بلال,
Sohail=سهیل, Shafiq=شفیق, Tariq=طارق, Wahid=وحید, Zia=ضیا, Ajmal=اجمل, Asif=آصف, Aziz=عزیز, Basir=بصیر,
Daud=داود, Emal=ایمل, Fahim=فهیم, Haroon=هارون, Jalil=جلیل, Latif=لطیف, Mansoor=منصور, Matin=متین, Nabi=نبی,
Noor=نور, Obaid=عبید, Qadir=قادر, Rashid=رشید, Sadiq=صادق, Sharif=شریف, Shams=شمس, Sultan=سلطان,
Yaqub=یعقوب, Zubair=زبیر, Hassan=حسن, Omar=عمر,
Fatima=فاطمه, Maryam=مریم, Zahra=زهرا, Masooma=معصومه, Shabnam=شبنم, Nargis=نرگس, Parwana=پروانه,
Fariba=فریبا, Farzana=فرزانه, Gulalai=گلالی, Hamida=حمیده, Khadija=خدیجه, Laila=لیلا, Mahbooba=محبوبه,
Malalai=ملالی, Marzia=مرضیه, Mina=مینا, Nadia=نادیه, Nasima=نسیمه, Nazanin=نازنین, Nilofar=نیلوفر,
Parisa=پریسا, Rahima=رحیمه, Roya=رویا, Sakina=سکینه, Samira=سمیره, Shakila=شکیله, Sharifa=شریفه, Sima=سیما,
Soraya=ثریا, Tahmina=تهمینه, Wahida=وحیده, Zarghona=زرغونه, Zainab=زینب, Zarmina=زرمینه, Zakia=زکیه,
Latifa=لطیفه, Habiba=حبیبه, Halima=حلیمه, Gulnaz=گلناز, Homa=هما, Freshta=فرشته, Hasina=حسینه,
Jamila=جمیله, Karima=کریمه, Kubra=کبری, Mahnaz=مهناز, Munira=منیره, Nafisa=نفیسه, Najiba=نجیبه,
Nasrin=نسرین, Palwasha=پلوشه, Qudsia=قدسیه, Rabia=رابعه, Safia=صفیه, Saleha=صالحه, Shirin=شیرین,
Sohaila=سهیله, Tamana=تمنا, Yalda=یلدا, Zohra=زهره, Arezo=آرزو, Sediqa=صدیقه, Frozan=فروزان, Marwa=مروه,
Malika=ملیکه, Shukria=شکریه, Razia=رضیه,
Ahmadzai=احمدزی, Karimi=کریمی, Rahimi=رحیمی, Hashimi=هاشمی, Mohammadi=محمدی, Noori=نوری, Sultani=سلطانی,
Hussaini=حسینی, Amiri=امیری, Azizi=عزیزی, Haidari=حیدری, Jalali=جلالی, Niazi=نیازی, Safi=صافی,
Sharifi=شریفی, Wardak=وردک, Yusufzai=یوسفزی, Durrani=درانی, Popal=پوپل, Barakzai=بارکزی, Nazari=نظری,
Sadat=سادات, Hakimi=حکیمی, Habibi=حبیبی, Rasuli=رسولی, Qaderi=قادری, Rezaei=رضایی, Jafari=جعفری,
Mohseni=محسنی, Hamidi=حمیدی, Ahmadi=احمدی, Akbari=اکبری, Ansari=انصاری, Faizi=فیضی, Hotak=هوتک,
Jamali=جمالی, Rahmani=رحمانی, Samadi=صمدی, Shinwari=شینواری, Taheri=طاهری, Zamani=زمانی,
Stanekzai=ستانکزی, Mangal=منگل, Popalzai=پوپلزی, Kohistani=کوهستانی, Nuristani=نورستانی,
Panjshiri=پنجشیری, Ghafoori=غفوری');

-- Ethiopic (Ge'ez) script: Tigrinya and Amharic names
select dgen.add_script('Ethi', null, '
Tesfaye=ተስፋዬ, Yohannes=ዮሐንስ, Dawit=ዳዊት, Daniel=ዳንኤል, Solomon=ሰሎሞን, Mikael=ሚካኤል, Tekle=ተክሌ,
Gebremariam=ገብረማርያም, Haile=ኃይሌ, Berhane=ብርሃነ, Kidane=ኪዳነ, Mehari=መሓሪ, Tsegay=ጸጋይ, Gebre=ገብሬ,
Yonas=ዮናስ, Samuel=ሳሙኤል, Abraham=አብርሃም, Amanuel=አማኑኤል, Filmon=ፊልሞን, Habtom=ሃብቶም, Efrem=ኤፍሬም,
Isaias=ኢሳይያስ, Tewelde=ተወልደ, Yemane=የማነ, Zerai=ዘርኣይ, Asmerom=ኣስመሮም, Aron=ኣሮን, Biniam=ቢንያም,
Ermias=ኤርምያስ, Fitsum=ፍጹም, Goitom=ጎይቶም, Henok=ሄኖክ, Kibrom=ክብሮም, Mebrahtu=መብራህቱ, Merhawi=መርሃዊ,
Mussie=ሙሴ, Nahom=ናሆም, Robel=ሩቤል, Semere=ሰመረ, Simon=ስምኦን, Teklay=ተኽላይ, Yosief=ዮሴፍ, Alem=ዓለም,
Angesom=ኣንገሶም, Bereket=በረከት, Eyob=ኢዮብ, Fikru=ፍቅሩ, Girmay=ግርማይ, Hagos=ሓጎስ, Kahsay=ካሕሳይ,
Mengistu=መንግስቱ, Meles=መለስ, Negasi=ንጋሲ, Tekeste=ተኸስተ, Welday=ወልዳይ, Yirga=ይርጋ, Abel=ኣቤል, Elias=ኤልያስ,
Hadush=ሓዱሽ, Kiros=ኪሮስ, Mesfin=መስፍን, Asefaw=ኣሰፋው, Gebremeskel=ገብረመስቀል, Habte=ሃብተ, Medhanie=መድሃኔ,
Awet=ኣወት, Abebe=አበበ, Alemayehu=አለማየሁ, Bekele=በቀለ, Girma=ግርማ, Kebede=ከበደ, Tadesse=ታደሰ,
Getachew=ጌታቸው, Tewodros=ቴዎድሮስ, Mulugeta=ሙሉጌታ, Negash=ነጋሽ, Gebremedhin=ገብረመድህን,
Gebrehiwet=ገብረሕይወት, Gebreyesus=ገብረየሱስ, Gebremichael=ገብረሚካኤል, Hailemariam=ኃይለማርያም,
Teklehaimanot=ተክለሃይማኖት, Tesfamariam=ተስፋማርያም, Tesfamichael=ተስፋሚካኤል, Woldemariam=ወልደማርያም,
Weldu=ወልዱ, Okbay=ዑቕባይ, Berhe=በርሀ, Gabriel=ገብርኤል,
Tigist=ትግስት, Helen=ሄለን, Selam=ሰላም, Senait=ሰናይት, Almaz=አልማዝ, Meron=ሜሮን, Hiwet=ሕይወት,
Yordanos=ዮርዳኖስ, Rahel=ራሄል, Saba=ሳባ, Mebrat=መብራት, Abeba=አበባ, Aster=አስቴር, Azeb=አዜብ, Birtukan=ብርቱካን,
Genet=ገነት, Hanna=ሃና, Kidist=ቅድስት, Lemlem=ለምለም, Lidya=ሊድያ, Luwam=ሉዋም, Mekdes=መቅደስ, Meseret=መሰረት,
Mulu=ሙሉ, Nardos=ናርዶስ, Rahwa=ራሕዋ, Ruth=ሩት, Semhar=ሰምሃር, Selamawit=ሰላማዊት, Tsega=ጸጋ, Tsehay=ፀሐይ,
Winta=ዊንታ, Yohana=ዮሃና, Zewdi=ዘውዲ, Elsa=ኤልሳ, Eden=ኤደን, Feven=ፌቨን, Freweini=ፍረወይኒ, Hadas=ሓዳስ,
Letemariam=ለተማርያም, Letebrhan=ለተብርሃን, Mehret=ምሕረት, Sara=ሳራ, Tsige=ጽጌ, Weini=ወይኒ, Yeshi=የሺ,
Zufan=ዙፋን, Mariam=ማርያም, Tirhas=ትርሓስ, Akberet=ኣኽበረት, Abrehet=ኣብረሀት, Alganesh=ኣልጋነሽ, Desta=ደስታ,
Etenesh=እቴነሽ, Fana=ፋና, Gelila=ገሊላ, Hirut=ሂሩት, Kokeb=ኮከብ, Medhin=መድህን, Netsanet=ነፃነት, Rigbe=ርግበ,
Roza=ሮዛ, Sosina=ሶሲና, Tsion=ጽዮን, Yodit=ዮዲት, Aberash=አበራሽ, Workenesh=ወርቅነሽ, Bezawit=ቤዛዊት,
Eyerusalem=ኢየሩሳሌም, Haimanot=ሃይማኖት, Mahlet=ማህሌት, Samrawit=ሳምራዊት, Wubit=ውብት');

-- the spelling each group's people use: Afghans their own, then the Arabic
-- ones whose letters Dari and Pashto write the same way
create table dgen.script_map (
    grp      text not null,
    latin    text not null,
    script   text not null,
    written  text not null,
    primary key (grp, latin)
);
insert into dgen.script_map
select g.grp, s.latin, s.script, s.written
  from (values ('SOM', 'Arab'), ('SDN', 'Arab'), ('ARB', 'Arab'), ('HAB', 'Ethi')) g(grp, script)
  join dgen.script_name s on s.script = g.script and s.grp is null
union all
select 'AFG', s.latin, s.script, s.written from dgen.script_name s where s.grp = 'AFG'
union all
select 'AFG', s.latin, s.script, s.written from dgen.script_name s
 where s.grp is null and s.script = 'Arab' and s.written !~ '[يكةىأإؤءئ]'
   and not exists (select 1 from dgen.script_name a where a.grp = 'AFG' and a.latin = s.latin);

------------------------------------------------------------------------------
-- Spellings of the same name part, as they appear in registration records.
------------------------------------------------------------------------------
-- Arabic names in English transliteration, Abd- compounds, -ad-Din, articles
select dgen.add_variants('ARA', '
Mohamed, Muhammad, Mohammed, Mohammad, Mohamad, Muhammed; Ahmed, Ahmad;
Hussein, Husein, Hussain, Husayn, Husain, Hussien; Hassan, Hasan, Hassen; Osman, Othman, Usman, Uthman, Osmaan;
Yusuf, Yousef, Yusef, Youssef, Yousif, Yousuf; Omar, Umar, Omer; Ali, Aly;
Abdirahman, Abdulrahman, Abdurahman, Abd al-Rahman, Abdelrahman, Abdul Rahman, Abdurrahman;
Abdullahi, Abdallah, Abdulla, Abdullah, Abdalla, Abd Allah;
Fatima, Fatma, Fatimah, Fatuma; Khadija, Khadiga, Khadijah, Kadija; Halima, Haleema, Halimah;
Aisha, Ayesha, Aysha, Aishah; Ibrahim, Ebrahim, Ibraheem, Ibrahem; Mahmoud, Mahmud, Mahmood, Mohamud, Mahamud;
Zainab, Zeinab, Zaynab, Zenab, Zeynab; Mariam, Maryam, Mariyam, Miriam; Mustafa, Moustafa, Mostafa, Mustapha;
Khalid, Khaled; Abdiaziz, Abdulaziz, Abdelaziz, Abd al-Aziz;
Abdikadir, Abdulkadir, Abdelgadir, Abdulqadir, Abd al-Qadir, Abdelkader, Abdelkadir;
Abdirahim, Abdulrahim, Abdelrahim, Abd al-Rahim, Abdurrahim; Abdirashid, Abdulrashid, Abdelrashid, Abd al-Rashid;
Abdinasir, Abdulnasir, Abdelnasir, Abdel Nasser, Abdinasser; Abdikarim, Abdulkarim, Abdelkarim, Abd al-Karim, Abdelkerim;
Abdisalam, Abdulsalam, Abdelsalam, Abdessalam, Abd al-Salam, Abdusalam; Abdiwahab, Abdulwahab, Abdelwahab, Abd al-Wahab;
Abdifatah, Abdulfatah, Abdelfattah, Abdelfatah; Abdihakim, Abdulhakim, Abdelhakim;
Abdimalik, Abdulmalik, Abdelmalik, Abd al-Malik; Abdinur, Abdulnur, Abdelnour, Abdinoor; Abdiwali, Abdulwali, Abdelwali;
Abdisamad, Abdulsamad, Abdelsamad, Abdussamad; Abdelmoneim, Abdulmunim, Abdelmonem, Abd al-Munim;
Abdelbagi, Abdulbaqi, Abdelbaqi, Abd al-Baqi; Abdelhamid, Abdulhamid, Abd al-Hamid, Abdel Hamid;
Abdelmajid, Abdulmajid, Abd al-Majid, Abdelmadjid;
Ismail, Ismael, Esmail, Ismaeel; Salih, Saleh, Saalih; Said, Saeed, Saiid, Sayid; Nasser, Nasir, Naser, Naasir;
Yahya, Yahia, Yehia, Yahiya; Zakaria, Zakariya, Zakariyya, Zakarya; Walid, Waleed; Tariq, Tarek, Tarik, Tareq;
Hamza, Hamzah, Hamze; Bilal, Belal; Osama, Usama, Usamah; Hisham, Hesham; Ayman, Aiman, Eyman; Emad, Imad;
Iyad, Eyad, Ayad; Maher, Mahir; Mazen, Mazin; Mohannad, Muhannad, Mohanad; Zaid, Zeid, Zayd; Ziad, Ziyad, Zeyad;
Obaida, Ubaida, Obaidah, Ubayda; Louay, Luay, Loai, Luai; Laith, Leith, Layth; Hamoud, Hamood, Hammoud;
Mohsen, Muhsin, Mohsin; Abdo, Abdu, Abduh; Fuad, Fouad, Fuaad; Ammar, Amar, Ammaar; Haider, Hayder, Haidar, Hyder;
Kadhim, Kazim, Kadim, Kathim, Kazem; Jafar, Jaafar, Jaffar, Jafer; Sajjad, Sajad; Karrar, Karar;
Qasim, Qassem, Kassem, Kasim, Gasim, Qassim; Yasser, Yasir, Yaser; Wissam, Wisam, Wesam; Mahdi, Mehdi, Mahady;
Idris, Idriss, Idrees, Edris; Suleiman, Sulayman, Sleiman, Soliman, Suleyman, Sulaiman; Yaqub, Yagoub, Yacoub, Yaqoob, Yakub;
Ishaq, Ishag, Ishak; Haroun, Harun, Haroon; Daoud, Daud, Dawood, Dawud; Jibril, Jibreel, Gibril; Musa, Mousa, Moosa;
Issa, Isa, Eisa, Essa; Adam, Aadam; Nur, Nour, Noor; Amina, Aminah, Amena, Amna; Safia, Safiya, Safiyya, Safiyah;
Sumaya, Sumaia, Sumayya, Somaya; Ruqaya, Ruqayya, Ruqiya, Roqaya, Rukia; Hawa, Hawaa; Asmaa, Asma; Duaa, Doaa, Dua;
Israa, Esraa, Isra; Alaa, Ala; Aya, Ayah; Shahad, Shahed; Zahraa, Zahra; Yasmin, Yasmine, Yasmeen;
Layla, Laila, Leila, Leyla; Nadia, Nadiya; Rania, Ranya; Reem, Rim; Safaa, Safa; Wafaa, Wafa; Suad, Souad, Soad;
Huda, Houda, Hoda; Iman, Eman, Imane; Nawal, Nawel; Najwa, Nagwa; Hanan, Hanane; Jamila, Jameela;
Habiba, Habeeba; Nafisa, Nafeesa, Nefisa; Amani, Amany; Kawther, Kawthar, Kausar, Kawsar; Hiba, Heba;
Muna, Mona, Mouna; Samira, Sameera, Samirah; Rahma, Rahmah; Sadia, Saadia, Sadiya; Hafsa, Hafsah;
Intisar, Entisar; Ikhlas, Ekhlas; Ilham, Elham; Salwa, Selwa; Sana, Sanaa; Tahani, Tahany; Mastura, Mastoura;
Awatif, Awatef; Sabir, Saber; Tahir, Taher; Taha, Taaha; Hamid, Hameed, Hamed; Juma, Jumaa, Jumah;
Khamis, Khamees, Hamisi; Fadul, Fadl, Fadil; Bakri, Bakry; Mubarak, Moubarak; Bashir, Basheer, Bachir;
Sharif, Shareef, Cherif; Yasin, Yassin, Yaseen, Yassine; Hashim, Hashem; Jamal, Gamal, Djamal; Kamal, Kamel;
Anwar, Anouar; Amir, Ameer; Awad, Awadh; Salah, Salaah; Majid, Majed, Madjid; Mansour, Mansur, Mansoor;
Nabil, Nabeel; Riad, Riyad, Riyadh; Raed, Raid; Adnan, Adnaan; Bassam, Basam; Firas, Feras; Tamer, Tamir;
Wael, Wail; Anas, Annas; Khalil, Khaleel; Hadi, Haadi; Abbas, Abas; Samer, Saamer; Samir, Sameer;
Nureldin, Nur al-Din, Nuruddin, Nour Eldin, Nour El-Din, Nurdin;
Salaheldin, Salah al-Din, Salahuddin, Salah Eldin, Salahedine; Izzeldin, Izz al-Din, Izzuddin, Ezzeldin, Ezz Eldin;
Kamaleldin, Kamal al-Din, Kamaluddin, Kamal Eldin; Alaeldin, Ala al-Din, Alauddin, Alaa Eldin, Aladdin;
Badreldin, Badr al-Din, Badruddin, Badr Eldin; Sharafeldin, Sharaf al-Din, Sharafuddin, Sharaf Eldin;
Elsadig, El-Sadig, Al-Sadiq, Assadig, Sadig, Sadiq; Eltayeb, El-Tayeb, Al-Tayeb, Altayeb, Tayeb, Attayeb;
Elfatih, El-Fatih, Al-Fatih, Alfatih, Fatih; Alamin, Al-Amin, El-Amin, Elamin, Amin; Elnour, El-Nour, Al-Nour, Alnour, Annour;
Tijani, Al-Tijani, Eltijani, Tidjani; Siddig, Siddiq, Sideeg, Seddik; Babiker, Babikir, Babeker;
Mohamedein, Mohamadain, Muhammadain; Abakar, Abbakar, Abbaker; Bushra, Boushra; Hamdan, Hamdaan; Hammad, Hamaad;
Alawia, Alawiya, Alawiyya; Nazik, Nazeek; Widad, Wedad; Mawahib, Mawaheb; Rabab, Rabaab; Sakina, Sakeena, Sakinah;
Ihsan, Ehsan; Aziza, Azeeza; Hadia, Hadiya; Samah, Samaah; Najla, Najlaa; Sahar, Sahr; Kaltoum, Kalthoum, Kulthum;
Hajar, Hajer; Marwa, Marwah; Nisreen, Nesreen, Nisrin; Rawan, Rawaan; Shaima, Shaimaa, Shayma; Razan, Razaan;
Abeer, Abir; Hayat, Hayet; Rahaf, Rehaf; Raghad, Raghed; Joud, Jud; Tabarak, Tabaraq; Malak, Malaak');

-- Somali orthography (c for ayn, x for the pharyngeal h, doubled long vowels) and common Somali spellings
select dgen.add_variants('SOM', '
Mohamed, Maxamed, Mahamed; Ahmed, Axmed; Hassan, Xasan; Hussein, Xuseen, Huseen; Ali, Cali; Abdi, Cabdi;
Omar, Cumar, Omaar; Osman, Cismaan, Osmaan; Abdullahi, Cabdullaahi, Abdilahi, Abdulahi;
Abdirahman, Cabdiraxmaan, Abdiraxman, Abdurahman; Ibrahim, Ibraahim, Ibraahin; Ismail, Ismaaciil, Ismaciil;
Yusuf, Yuusuf; Mohamud, Maxamuud, Mahamud, Mohamoud; Adan, Aadan, Aden, Adam; Muse, Muuse, Musa;
Isse, Ciise, Issa, Ise; Nur, Nuur, Noor; Jama, Jaamac, Jamac; Farah, Faarax, Farax; Dahir, Daahir, Dahiir;
Said, Saciid, Saeed; Abukar, Abuukar, Abubakar, Abu Bakr, Abubakr, Aboubakar; Sharif, Shariif; Yasin, Yaasiin, Yassin;
Bashir, Bashiir; Warsame, Warsama; Guled, Guuleed, Gulled; Hirsi, Xirsi, Hersi; Elmi, Cilmi; Hashi, Xaashi, Haashi;
Gedi, Geedi; Abdikadir, Cabdiqaadir, Abdiqadir, Abdulkadir; Abdirahim, Cabdiraxiim, Abdiraxim;
Abdirashid, Cabdirashiid, Abdirashiid; Abdiaziz, Cabdicasiis, Abdicasis, Abdulaziz; Abdinasir, Cabdinaasir, Abdinaasir;
Abdikarim, Cabdikariim, Abdikariim; Abdisalam, Cabdisalaam, Abdisalaam; Abdiwahab, Cabdiwahaab, Abdiwahaab;
Abdifatah, Cabdifataax, Abdifataah, Abdifitah; Abdihakim, Cabdixakiin, Abdixakim; Abdimalik, Cabdimaalik, Abdimaalik;
Abdinur, Cabdinuur, Abdinuur; Abdiwali, Cabdiwali, Abdiwaali; Abdisamad, Cabdisamad, Abdisamed;
Aweys, Aways, Oways, Uways, Cuweys; Mukhtar, Mukhtaar, Muqtar; Jibril, Jibriil; Ilyas, Ilyaas, Ilias; Hamza, Xamza;
Liban, Liibaan, Libaan; Roble, Rooble; Samatar, Samater; Egal, Cigaal, Igal; Ugas, Ugaas; Kahin, Kaahin;
Yonis, Yoonis, Younis, Yunus; Nuh, Nuux, Nooh; Salad, Salaad; Bile, Bille; Dirie, Diiriye, Diriye; Awil, Cawil, Awiil;
Khalif, Khaliif, Halif; Barre, Bare; Siyad, Siad, Siyaad; Idris, Idiris; Mahad, Mahaad; Shire, Shiire; Anwar, Anwaar;
Fatuma, Faadumo, Fadumo, Fatima, Faduma; Amina, Aamina, Amiina; Halima, Xaliimo, Halimo, Haliimo;
Khadija, Xadiija, Khadijo, Khadiija; Asha, Caasha, Aasha, Aisha; Maryan, Mariam, Maryam, Mariyan;
Hawa, Xawa, Xaawo, Hawo; Sahra, Saxra, Sahro, Zahra; Hodan, Hodaan; Safiya, Safiyo, Saafiya; Nasra, Nasro;
Zeinab, Saynab, Seynab, Zaynab; Sadia, Sacdiyo, Sadiyo; Rahma, Raxma, Rahmo; Muna, Muuna; Ruqiya, Ruqiyo, Raqiya;
Zamzam, Samsam; Nimco, Nimo, Nimca, Nima; Hibo, Hiba; Sumaya, Sumeya; Kaltun, Kaltuun, Kaltuma, Kalthoum;
Fardowsa, Fardosa, Firdaus, Firdows; Khadra, Khadro, Xadra; Deqa, Deeqa, Deeqo; Ubah, Ubax, Ubaah; Idil, Iidil;
Ayan, Ayaan; Ifrah, Ifraax, Ifra; Hamdi, Xamdi; Naima, Naciima, Naimo; Najma, Najmo; Faiza, Faaiso, Faysa, Faiso;
Qamar, Qamaro, Kamar; Istahil, Istaahil; Fartun, Fartuun; Ilhan, Ilhaan; Ladan, Ladaan; Sagal, Sagaal;
Nasteho, Nasteexo; Bilan, Bilaan; Ebyan, Ebyaan; Filsan, Filsaan; Ikran, Ikraan; Hamda, Xamda; Anab, Canab;
Shamso, Shamsa; Jawahir, Jawaahir; Dahabo, Dahaabo; Habiba, Xabiiba; Hafsa, Xafsa; Luul, Lul; Mulki, Mulqi;
Amran, Amraan; Nadifa, Nadiifo, Nadiifa; Shukri, Shukrii; Barwaqo, Barwaaqo; Hinda, Hindo; Warda, Wardo;
Intisar, Intisaar; Ugbaad, Ugbad');

-- French spellings (Chad, Sudan's western border, West Africa)
select dgen.add_variants('FRA', '
Mohamed, Mahamat, Mahamad, Mouhamed; Ahmed, Ahmat, Ahamat; Hussein, Hissein, Houssein; Osman, Ousman, Ousmane, Othmane;
Yusuf, Youssouf, Youssef; Yousif, Youssouf; Omar, Oumar; Omer, Oumar; Musa, Moussa; Issa, Isa; Abdalla, Abdallah, Abdoulaye;
Abdullahi, Abdoulaye, Abdallah; Abdelrahman, Abderrahmane, Abdourahmane; Abdelrahim, Abderahim, Abderrahim;
Abdelkarim, Abdelkerim, Abdoulkarim; Abdelaziz, Abdoulaziz; Ibrahim, Brahim, Ibrahima; Idriss, Idris, Idrissa;
Ismail, Ismael, Ismaila; Khadija, Khadidja, Hadidja, Hadiza; Aisha, Aicha; Fatima, Fatime, Fatouma; Zainab, Zenaba;
Zeinab, Zenaba; Hawa, Haoua; Mariam, Mariame; Halima, Halime; Jamila, Djamila; Suleiman, Souleymane, Souleiman;
Yagoub, Yacoub, Yakoub; Haroun, Haroune; Jibril, Djibril, Djibrine; Abakar, Aboubakar, Abbakar; Adam, Adoum;
Abdelmajid, Abdelmadjid, Abdoulmadjid; Mahmoud, Mahamoud; Hassan, Hassane; Zakaria, Zakarie; Ishag, Issakha;
Khamis, Khamiss; Yahia, Yaya; Abdelgadir, Abdelkader; Daoud, Daouda; Saleh, Salah');

-- Dari and Pashto names
select dgen.add_variants('AFG', '
Mohammad, Mohammed, Muhammad, Mohamad, Mohd; Ahmad, Ahmed; Hussain, Hussein, Husain, Hossain, Hossein;
Mahmood, Mahmoud, Mahmud; Masood, Masoud, Massoud, Masud; Yousuf, Yusuf, Yosuf, Yousef; Naveed, Navid, Nawid;
Javid, Jawid, Javed, Jawed; Wahid, Waheed, Vahid; Hamid, Hameed; Rahim, Raheem; Karim, Kareem; Farid, Fareed;
Sharif, Shareef; Najib, Najeeb; Habib, Habeeb; Aziz, Azeez; Basir, Baseer; Noor, Nur, Nour; Zahir, Zaheer;
Zabihullah, Zabiullah, Zabeehullah; Rahmatullah, Rahmatulla, Rahmat Ullah; Hamidullah, Hamidulla, Hameedullah;
Najibullah, Najeebullah, Najibulla; Aminullah, Aminulla, Ameenullah; Asadullah, Asadulla; Samiullah, Sami Ullah, Samiulla;
Hekmatullah, Hikmatullah; Inayatullah, Enayatullah; Ehsanullah, Ihsanullah, Ahsanullah; Ghulam, Gholam, Golam; Gul, Gol;
Sayed, Sayyid, Syed, Seyed; Reza, Riza, Raza; Mehdi, Mahdi; Jamshid, Jamshed; Fawad, Fuad, Fouad; Idrees, Idris, Idriss;
Sohail, Suhail, Sohayl; Shafiq, Shafik, Shafeeq; Zia, Ziya; Daud, Dawood, Dawud, Daoud; Haroon, Harun, Haroun;
Mansoor, Mansour, Mansur; Qadir, Qader, Kadir; Sadiq, Sadeq, Sadik; Sultan, Soltan; Yaqub, Yaqoob, Yakub;
Zubair, Zubayr, Zobair; Mirwais, Mir Wais, Mirways; Omid, Umid, Omed; Zalmai, Zalmay; Emal, Aimal; Fahim, Faheem;
Jalil, Jaleel; Latif, Lateef; Matin, Mateen; Obaid, Ubaid; Rashid, Rasheed; Asif, Aseef; Gulbuddin, Golbuddin, Gulbudin;
Farhad, Farhaad; Bilal, Belal; Tariq, Tareq; Ismail, Esmail;
Ibrahim, Ebrahim; Qasim, Qasem; Omar, Umar; Hassan, Hasan; Ali, Aly; Abdullah, Abdulla;
Fatima, Fatema, Fatemeh; Masooma, Masouma, Masuma, Masoumeh; Zahra, Zahraa, Zehra; Marzia, Marziya, Marzieh;
Parwana, Parvana; Farzana, Farzaneh; Fariba, Fareeba; Nargis, Narges; Mahbooba, Mahboba, Mahbuba; Malalai, Malalay;
Gulalai, Gulalay; Nasima, Naseema; Nilofar, Nilufar, Nilofer; Tahmina, Tahmineh; Sakina, Sakineh, Sakeena;
Shakila, Shakeela; Wahida, Waheeda; Zakia, Zakiya; Hamida, Hameeda; Latifa, Lateefa; Freshta, Fereshta, Fereshteh;
Hasina, Haseena; Najiba, Najeeba; Rabia, Rabiya, Rabea; Razia, Raziya, Raziye; Shukria, Shukriya; Sediqa, Siddiqa, Sadiqa;
Soraya, Suraya, Thuraya; Zarghona, Zarghuna; Palwasha, Palvasha; Maryam, Mariam, Maryum; Zainab, Zaynab, Zeinab;
Laila, Leila, Layla; Roya, Roia; Nazanin, Nazaneen; Shabnam, Shabnum; Zohra, Zuhra; Rahima, Raheema; Samira, Sameera;
Karima, Kareema; Jamila, Jameela; Habiba, Habeeba; Halima, Haleema; Khadija, Khadijah; Nadia, Nadiya; Nafisa, Nafeesa;
Munira, Muneera; Nasrin, Nasreen; Shirin, Shireen; Mina, Meena; Sima, Seema;
Ahmadzai, Ahmadzay, Ahmedzai; Yusufzai, Yousafzai, Yousufzai; Popalzai, Popalzay; Barakzai, Barakzay; Stanekzai, Stanikzai;
Hashimi, Hashemi; Hussaini, Hosseini, Husseini; Mohammadi, Mohammady, Muhammadi; Noori, Nuri, Noory;
Rezaei, Rezai, Rezayee; Rasuli, Rasooli; Qaderi, Qadiri; Ghafoori, Ghafori; Haidari, Haideri, Heydari; Jafari, Jaafari;
Wardak, Wardag; Shinwari, Shinwary; Kohistani, Kuhistani; Kakar, Kakkar; Zadran, Zadraan; Sultani, Soltani;
Karimi, Kareemi; Rahimi, Raheemi; Ahmadi, Ahmedi; Amiri, Ameeri; Sharifi, Shareefi; Habibi, Habeebi; Jalali, Jallali');

-- Tigrinya and Amharic names from Ethiopic script
select dgen.add_variants('HAB', '
Tesfaye, Tesfay, Tesfai; Gebre, Ghebre, Gabre; Gebremariam, Ghebremariam, Gebre Mariam, Gebremaryam;
Gebremedhin, Ghebremedhin, Gebre Medhin, Gebremedhn; Gebrehiwet, Ghebrehiwet, Gebre Hiwet, Gebrehiwot;
Gebreyesus, Ghebreyesus, Gebre Yesus; Gebremichael, Ghebremichael, Gebre Michael, Gebremikael;
Gebremeskel, Ghebremeskel, Gebre Meskel; Haile, Hayle; Hailemariam, Haile Mariam, Hayle Mariam, Hailemaryam;
Tekle, Tekele; Teklehaimanot, Tekle Haimanot, Teklehaymanot; Mikael, Mikiel, Mikail, Michael;
Yohannes, Yohanes, Yohannis, Johannes; Tewodros, Teodros, Tewodroes, Theodros; Berhane, Birhane, Berhani, Brhane;
Mehari, Mehary, Meharie; Tsegay, Tsegai, Tsegaye; Zerai, Zeray, Zerei; Yemane, Yemani, Yemaneh; Kidane, Kidana, Kidan;
Tesfamariam, Tesfa Mariam, Tesfamaryam; Tesfamichael, Tesfa Michael, Tesfamikael;
Woldemariam, Weldemariam, Wolde Mariam, Woldemaryam; Weldu, Woldu; Tewelde, Tewolde; Kibrom, Kibrum, Kbrom;
Habtom, Habtum; Goitom, Goytom; Yosief, Yoseph, Yosef, Yoseif; Efrem, Ephrem, Efriem; Filmon, Philemon, Filimon;
Biniam, Biniyam, Binyam; Mussie, Musie; Eyob, Iyob; Amanuel, Amanual, Emmanuel; Okbay, Ukbay, Okubay; Kahsay, Kahsai;
Girmay, Ghirmay, Girmai; Negasi, Negassi; Asmerom, Asmarom; Mebrahtu, Mebrahto; Merhawi, Merhawie; Semere, Semre;
Welday, Weldai; Teklay, Teklai; Alemayehu, Alemayohu, Alemayhu; Getachew, Getachu; Mulugeta, Mulugueta;
Tadesse, Tadese; Bekele, Bekelle; Abebe, Abbebe; Berhe, Birhe; Isaias, Isayas, Esayas; Ermias, Ermiyas;
Henok, Henock, Enoch; Nahom, Nahum; Medhanie, Medhane; Asefaw, Assefaw; Angesom, Angosom;
Tigist, Tigisti, Tgist; Senait, Senayt, Sennait; Hiwet, Hiwot; Yordanos, Yordanose; Mebrat, Mibrat; Azeb, Azieb;
Freweini, Frewoini, Freweyni; Letemariam, Lete Mariam, Letemaryam; Letebrhan, Letebrehan, Lete Birhan;
Mehret, Mihret, Meheret; Tsige, Tsighe; Weini, Wayni, Weyni; Zewdi, Zewdie; Rahwa, Rahewa; Luwam, Luam;
Akberet, Akeberet; Abrehet, Abrihet; Tirhas, Terhas, Tirhaz; Rigbe, Rigbie; Kidist, Kedist; Tsion, Tsiyon, Zion;
Yodit, Yodith; Haimanot, Haymanot; Mahlet, Mahelet; Samrawit, Semrawit; Eyerusalem, Yerusalem, Iyerusalem;
Etenesh, Itenesh; Alganesh, Alganash; Tsehay, Tsehai; Almaz, Almas; Mekdes, Mekedes; Rahel, Rahiel; Lidya, Lydia;
Yohana, Yohanna; Feven, Fiven; Genet, Gennet');

-- Dinka and Nuer (c for ch, ny, doubled vowels, words joined or not)
select dgen.add_variants('SSD', '
Chol, Cuol, Chool; Deng, Dheng; Garang, Garaang; Majok, Majoc, Majook; Akol, Akool; Malual, Maluel, Maluol;
Manyang, Manyaang; Thon, Thoon; Ajak, Ajaak; Akech, Akec, Akeech; Madut, Maduot; Mading, Madhing;
Marial, Mariel, Mariaal; Mayen, Mayeen; Ngor, Ngoor; Nhial, Nyial, Nhiel; Riak, Riaak; Anyang, Anyaang;
Makuei, Makwei; Lual, Luwal; Lueth, Lueeth; Aguer, Agwer; Akuei, Akwei; Mathiang, Mathieng; Mayom, Mayoom;
Mawien, Mawin; Makur, Makuur; Yak, Yaak;
Nyandeng, Nyan Deng, Nyandheng; Achol, Acol, Achool; Ayen, Ayeen; Abuk, Abuuk; Achan, Acan; Athieng, Athiang;
Nyibol, Nyibool; Nyanut, Nyanuut; Alek, Aleek; Awut, Awuot; Akuol, Akwol; Adhieu, Adhiu;
Gatluak, Gatluok, Gat Luak, Gatluach; Gatkuoth, Gatkuot, Gat Kuoth; Gatwech, Gatwich, Gat Wech; Gatdet, Gat Det;
Chuol, Chwol; Machar, Machaar; Nyakuoth, Nyakwoth, Nya Kuoth; Nyamal, Nya Mal; Nyaluak, Nyaluok;
Nyachuol, Nyacuol, Nya Chuol; Nyagoa, Nyagua; Duoth, Duot; Jal, Jaal; Jock, Jok, Jwok; Gai, Gay; Both, Buoth;
Tut, Tuut; Kuach, Kuac; Puok, Pwok; Reath, Riath; Ruach, Ruac; Wal, Waal; Koang, Kuang; Teny, Tenny; Nyuon, Nyon;
Pal, Paal; Keat, Kiet; Gatjang, Gat Jang; Gatmai, Gat Mai; Nyaruach, Nyaruac; Nyabol, Nya Bol');

-- Congolese: French accents and hyphens, ou for u, Tsh/Ch, final y, l/r
select dgen.add_variants('COD', '
Jean-Pierre, Jean Pierre, Jeanpierre; Jean-Claude, Jean Claude, Jeanclaude; Jean-Paul, Jean Paul, Jeanpaul;
Jean-Marie, Jean Marie, Jeanmarie; Jean-Baptiste, Jean Baptiste, Jeanbaptiste, Baptiste; Jean-Bosco, Jean Bosco, Bosco;
Dieudonne, Dieudonné, Dieu-Donne, Dieudone; Josue, Josué, Joshua; Moise, Moïse, Moses; Elie, Élie; Therese, Thérèse;
Esperance, Espérance; Celestin, Célestin; Desire, Désiré; Fidele, Fidèle; Gedeon, Gédéon, Gideon; Jeremie, Jérémie, Jeremiah;
Zacharie, Zacharia; Mathieu, Matthieu, Matthew; Helene, Hélène, Helen; Immaculee, Immaculée, Imaculee; Cecile, Cécile;
Angelique, Angélique; Beatrice, Béatrice; Veronique, Véronique; Francois, François; Andre, André; Etienne, Étienne;
Noella, Noëlla, Noela; Innocent, Inocent; Pacifique, Pacific; Claudine, Clodine; Francine, Fransine;
Josephine, Joséphine; Jeanne, Jeane; Jeannette, Jeanette; Julienne, Juliene; Pascaline, Paskaline;
Madeleine, Madelaine, Magdalene; Emmanuel, Emanuel, Immanuel; Patrick, Patric; Eric, Erick; Samuel, Samwel;
Alphonse, Alfonse; Augustin, Agustin; Faustin, Fostin; Felix, Félix; Leon, Léon; Prosper, Prospere; Elisabeth, Elizabeth;
Kambale, Kambare; Kasereka, Kaserika; Paluku, Paluko; Kahindo, Kahindu; Kavira, Kavila; Masika, Massika;
Kahambu, Kahambou; Mbambu, Mbambou; Bahati, Bahaty; Zawadi, Zawady; Neema, Nema; Amani, Amany; Furaha, Fouraha;
Tumaini, Toumaini; Riziki, Rizki; Shukuru, Shukru; Faida, Fayida; Vumilia, Vumiliya; Byamungu, Biamungu;
Cirhuza, Chiruza; Murhula, Murula; Bisimwa, Bisimua; Mutombo, Moutombo; Tshibanda, Chibanda; Tshimanga, Chimanga;
Tshilombo, Chilombo; Ilunga, Ilounga; Mukendi, Moukendi; Mulumba, Moulumba; Mwamba, Muamba; Kasongo, Kassongo;
Ngoy, Ngoie, Ngoyi; Kazadi, Kasadi; Ndayishimiye, Ndayisimiye; Nsengiyumva, Nsengiumva; Niyonzima, Nionzima;
Habimana, Abimana; Masudi, Masoudi; Ramazani, Ramadhani, Ramazan; Musafiri, Msafiri; Safari, Safary;
Katembo, Katembu; Mumbere, Mumbele; Mugisho, Mugicho; Zihindula, Zihindura;
Balagizi, Baragizi; Kalonji, Kalonzi; Lukusa, Loukoussa');

-- article forms of Arabic family names: Al-Hassan, Alhassan, Al Hassan, El-Hassan, Hassan (and Ash-Shami for sun letters)
select dgen.add_variants('ARA', string_agg(concat_ws(',', f.val, 'Al' || lower(f.x), 'Al ' || f.x, 'El-' || f.x, f.x,
           case when f.x ~ '^(Sh|Th|Dh|[TDRZSN])' then 'A' || lower(substring(f.x from '^(Sh|Th|Dh|[TDRZSN])')) || '-' || f.x end), ';'))
  from (select val, substr(val, 4) as x from dgen.name_list where list = 'ARB/S' and val like 'Al-%' order by rnk) f;

insert into dgen.keyboard (key, near) values
  ('q', 'wa'), ('w', 'qeas'), ('e', 'wrsd'), ('r', 'etdf'), ('t', 'ryfg'), ('y', 'tugh'), ('u', 'yihj'),
  ('i', 'uojk'), ('o', 'ipkl'), ('p', 'ol'), ('a', 'qwsz'), ('s', 'awedxz'), ('d', 'serfcx'), ('f', 'drtgvc'),
  ('g', 'ftyhbv'), ('h', 'gyujnb'), ('j', 'huikmn'), ('k', 'jiolm'), ('l', 'kop'), ('z', 'asx'), ('x', 'zsdc'),
  ('c', 'xdfv'), ('v', 'cfgb'), ('b', 'vghn'), ('n', 'bhjm'), ('m', 'njk');

------------------------------------------------------------------------------
-- Generation.
------------------------------------------------------------------------------
-- A name as registered from its parts: own name o, baptismal name c,
-- father's name f, grandfather's g, family or tribal name s, post-name p.
-- Somali, Sudanese, Eritrean/Ethiopian: own + father (+ grandfather);
-- Dinka/Nuer: the same, or baptismal + own + father; Arabs of the Levant,
-- Iraq and Yemen: own (+ father) + family name; Afghans: own + tribal name
-- (tribal households) or + father; Congolese: given (+ post-name) + family.
create function dgen.render(grp text, o text, c text, f text, g text, s text, p text, r double precision, tribal boolean)
returns table (given text, middle text, family text) language sql immutable as $$
    select case when grp in ('DIN', 'NUE') and c is not null then c else o end,
           case when grp in ('SOM', 'SDN', 'HAB') then case when r < 0.65 then f end
                when grp in ('DIN', 'NUE') then case when c is not null then o when r < 0.4 then f end
                when grp = 'ARB' then case when r < 0.75 then f end
                when grp = 'AFG' then case when tribal and r < 0.2 then f end
                else p end,
           case when grp in ('SOM', 'SDN', 'HAB') then case when r < 0.65 then g else f end
                when grp in ('DIN', 'NUE') then case when c is not null then f when r < 0.4 then g else f end
                when grp = 'ARB' then s
                when grp = 'AFG' then case when tribal then s else f end
                else s end
$$;

-- where a duplicate registers: the other operation (60 %), another site of
-- the same operation (30 %) or the same site
create function dgen.move(p_op text, p_site text, r1 double precision, r2 double precision) returns text[]
language sql immutable as $$
    with s(op, sites) as (values ('KEN', array['DADAAB', 'KAKUMA', 'NAIROBI']), ('UGA', array['KAMPALA', 'KYANGWALI', 'NAKIVALE']))
    select case when r1 < 0.6 then array[o.op, o.sites[1 + floor(r2 * 3)::integer]]
                when r1 < 0.9 then array[p_op, (array_remove(c.sites, p_site))[1 + floor(r2 * 2)::integer]]
                else array[p_op, p_site] end
      from s c, s o
     where c.op = p_op and o.op <> p_op
$$;

create function dgen.phone(p_op text, r double precision) returns text language sql immutable as $$
    select case when p_op = 'KEN' then '+254 7' else '+256 7' end
           || substr(d, 1, 2) || ' ' || substr(d, 3, 3) || ' ' || substr(d, 6, 3)
      from lpad(floor(r * 100000000)::bigint::text, 8, '0') d
$$;

-- the orthographies whose spellings a person's name may be found in
create function dgen.orthographies(grp text) returns text[] language sql immutable as $$
    select case grp when 'SOM' then array['SOM', 'ARA'] when 'SDN' then array['ARA', 'FRA'] when 'ARB' then array['ARA']
                    when 'AFG' then array['AFG', 'ARA'] when 'HAB' then array['HAB'] when 'COD' then array['COD', 'FRA']
                    else array['SSD'] end
$$;

create function dgen.has_variant(s text, grps text[]) returns boolean language sql stable as $$
    select exists (select 1 from dgen.variant_pair v where lower(v.a) = lower(s) and v.grp = any (grps))
        or exists (select 1 from dgen.variant_pair v where lower(v.b) = lower(s) and v.grp = any (grps))
$$;

-- another spelling of s, or null
create function dgen.translit(s text, grps text[]) returns text language plpgsql volatile as $$
declare
    v text[];
begin
    select array_agg(x order by x) into v
      from (select v.b as x from dgen.variant_pair v where lower(v.a) = lower(s) and v.grp = any (grps)
            union
            select v.a from dgen.variant_pair v where lower(v.b) = lower(s) and v.grp = any (grps)) q
     where lower(x) <> lower(s);
    if v is null then
        return null;
    end if;
    return v[1 + floor(random() * cardinality(v))::integer];
end $$;

-- one typing error: a neighbouring key, a letter left out, one typed twice
-- or an extra neighbour, two letters swapped; rarely on the first letter
create function dgen.typo(s text) returns text language plpgsql volatile as $$
declare
    n integer := length(s);
    op double precision := random();
    i integer := least(n, 2 + floor(random() * greatest(n - 1, 1))::integer);
    c text := substr(s, i, 1);
    nb text;
    t text;
begin
    select k.near into nb from dgen.keyboard k where k.key = lower(c);
    if op < 0.35 and nb is not null then
        t := substr(nb, 1 + floor(random() * length(nb))::integer, 1);
        return overlay(s placing case when c <> lower(c) then upper(t) else t end from i for 1);
    elsif op < 0.60 and n > 3 then
        return overlay(s placing '' from i for 1);
    elsif op < 0.80 or n < 3 then
        t := case when nb is null or random() < 0.5 then lower(c) else substr(nb, 1 + floor(random() * length(nb))::integer, 1) end;
        return overlay(s placing t from i for 0);
    end if;
    if i = n then
        i := n - 1;
    end if;
    if substr(s, i, 1) = substr(s, i + 1, 1) then
        return overlay(s placing '' from i for 1);
    end if;
    return overlay(s placing substr(s, i + 1, 1) || substr(s, i, 1) from i for 2);
end $$;

create function dgen.generate(people integer, dup_share double precision default 0.03, seed double precision default 0.5)
returns table (persons bigint, households bigint, duplicates bigint)
language plpgsql volatile
-- one process draws every random number, in a fixed order
set max_parallel_workers_per_gather = 0
-- compiling these wide expressions costs seconds and saves nothing
set jit = off
set client_min_messages = warning
as $fn$
#variable_conflict use_column
declare
    today constant date := coalesce(nullif(current_setting('dgen.today', true), '')::date, current_date);
    nd integer;
    n_orig bigint;
    hh_max bigint;
    d record;
    grps text[];
    kinds text[];
    chain text[];
    k text;
    r double precision;
    nchg integer;
    pg text;
    pm text;
    pf text;
    elig integer[];
    j integer;
    t text;
    done boolean;
    v_dob date;
    v_prec text;
    v_bc text;
    v_place text;
    v_phone text;
    v_sg text;
    v_sf text;
    v_script text;
    v_mother text;
    v_father text;
begin
    if people is null or people < 1 then
        raise exception 'dgen.generate: people must be at least 1';
    end if;
    if dup_share is null or dup_share < 0 or dup_share > 0.5 then
        raise exception 'dgen.generate: dup_share must be between 0 and 0.5';
    end if;
    perform setseed(seed);
    truncate dgen.person;
    drop table if exists pg_temp.dgen_h, pg_temp.dgen_hh, pg_temp.dgen_m, pg_temp.dgen_a, pg_temp.dgen_o,
        pg_temp.dgen_fam, pg_temp.dgen_w, pg_temp.dgen_hs, pg_temp.dgen_hsel, pg_temp.dgen_ss, pg_temp.dgen_ev,
        pg_temp.dgen_dm;

    -- Households: every random number drawn in household order first
    create temp table dgen_h as
    select i as hh, random() as r_grp, random() as r_size, random() as r_sp, random() as r_par, random() as r_parsex,
           random() as r_sib, random() as r_nep, random() as r_nepn, random() as r_pasex, random() as r_young,
           random() as r_site, random() as r_reg, random() as r_bc, random() as r_style, random() as r_af_o,
           random() as r_af_f, random() as r_af_s, random() as r_am_o, random() as r_pam_o, random() as r_br_o
      from generate_series(1, ceil(people / 3.5)::integer + 20) i;

    -- origin, size (1-10, mean 4.5; the last household is cut to reach people), make-up
    create temp table dgen_hh as
    with a as (
        select h.*,
               case when r_grp < 0.25 then 'SOM' when r_grp < 0.37 then 'DIN' when r_grp < 0.45 then 'NUE'
                    when r_grp < 0.57 then 'SDN' when r_grp < 0.72 then 'COD' when r_grp < 0.84 then 'HAB'
                    when r_grp < 0.90 then 'AFG' else 'ARB' end as grp,
               case when r_size < 0.14 then 1 when r_size < 0.25 then 2 when r_size < 0.38 then 3 when r_size < 0.52 then 4
                    when r_size < 0.65 then 5 when r_size < 0.76 then 6 when r_size < 0.85 then 7 when r_size < 0.92 then 8
                    when r_size < 0.97 then 9 else 10 end as n0
          from dgen_h h),
    b as (select a.*, sum(n0) over (order by hh) as cum from a),
    c as (select b.*, least(n0, people - (cum - n0))::integer as n from b where cum - n0 < people),
    d as (select c.*, (n >= 2 and r_sp < 0.72)::integer as sp from c),
    e as (select d.*, (n >= 3 and n - 1 - sp >= 1 and r_par < 0.10)::integer as par from d),
    f as (select e.*, (n >= 3 and n - 1 - sp - par >= 1 and r_sib < 0.07)::integer as sib from e),
    g as (select f.*, least(n - 1 - sp - par - sib, case when n >= 4 and r_nep < 0.12 then 1 + (r_nepn < 0.4)::integer else 0 end) as nep,
                 case grp when 'SOM' then case when r_bc < 0.93 then 'SOM' else 'ETH' end
                          when 'HAB' then case when r_bc < 0.6 then 'ERI' else 'ETH' end
                          when 'ARB' then case when r_bc < 0.45 then 'SYR' when r_bc < 0.75 then 'IRQ' else 'YEM' end
                          when 'DIN' then 'SSD' when 'NUE' then 'SSD' else grp end as bc
            from f)
    select g.hh, g.grp, g.n, g.sp, g.par, g.sib, g.nep, g.n - 1 - g.sp - g.par - g.sib - g.nep as nch,
           -- women head most households without a husband
           case when g.n = 1 then g.r_pasex < 0.35 when g.sp = 1 then g.r_pasex < 0.12 else g.r_pasex < 0.65 end as pa_f,
           g.r_young, g.r_parsex, g.r_reg, g.bc,
           case when g.grp = 'DIN' then 'T/SSD-DIN' when g.grp = 'NUE' then 'T/SSD-NUE'
                when g.grp = 'SOM' and g.bc = 'ETH' then 'T/ETH-SOM' else 'T/' || g.bc end as town_list,
           g.grp = 'AFG' and g.r_style < 0.6 as tribal,
           (select p.val from dgen.pick p where p.list = 'S/' || g.grp and p.slot = 1 + floor(g.r_site * 10000)::integer) as opsite,
           -- an absent father and mother, the principal's mother, the principal's brother (the nephews' father)
           (select p.val from dgen.pick p where p.list = g.grp || '/M' and p.slot = 1 + floor(g.r_af_o * 10000)::integer) as af_o,
           (select p.val from dgen.pick p where p.list = g.grp || '/M' and p.slot = 1 + floor(g.r_af_f * 10000)::integer) as af_f,
           (select p.val from dgen.pick p where p.list = g.grp || '/S' and p.slot = 1 + floor(g.r_af_s * 10000)::integer) as af_s,
           (select p.val from dgen.pick p where p.list = g.grp || '/F' and p.slot = 1 + floor(g.r_am_o * 10000)::integer) as am_o,
           (select p.val from dgen.pick p where p.list = g.grp || '/F' and p.slot = 1 + floor(g.r_pam_o * 10000)::integer) as pam_o,
           (select p.val from dgen.pick p where p.list = g.grp || '/M' and p.slot = 1 + floor(g.r_br_o * 10000)::integer) as br_o
      from g;

    -- Members: principal, spouse, children (eldest first), a parent, a sibling, nephews and nieces
    create temp table dgen_m as
    select s.hh, s.k, s.role, s.ci,
           random() as r_sex, random() as r_gap, random() as r_age, random() as r_o, random() as r_c, random() as r_cn,
           random() as r_f, random() as r_g, random() as r_s, random() as r_s2, random() as r_p, random() as r_pn,
           random() as r_layout, random() as r_adultpar, random() as r_mo, random() as r_ff, random() as r_prec,
           random() as r_day, random() as r_est, random() as r_heap, random() as r_phone, random() as r_phnum,
           random() as r_phshare, random() as r_pob, random() as r_pobnull, random() as r_script
      from (select h.hh, k,
                   case when k = 1 then 'PA'
                        when h.sp = 1 and k = 2 then 'SP'
                        when k <= 1 + h.sp + h.nch then 'CH'
                        when h.par = 1 and k = 2 + h.sp + h.nch then 'PAR'
                        when h.sib = 1 and k = 2 + h.sp + h.nch + h.par then 'SIB'
                        else 'NEP' end as role,
                   case when k > 1 + h.sp and k <= 1 + h.sp + h.nch then k - 1 - h.sp end as ci
              from dgen_hh h cross join generate_series(1, h.n) k
             order by h.hh, k) s;

    -- ages and sexes: children 1-4 years apart above a youngest mostly under five, parents old enough
    create temp table dgen_a as
    with c as (
        select m.*, h.grp, h.n, h.par, h.pa_f, h.r_young, h.r_parsex,
               case when m.role = 'CH' then case when m.r_gap < 0.03 then 0 else 1 + floor(m.r_gap * 3.5)::integer end end as gap
          from dgen_m m join dgen_hh h on h.hh = m.hh),
    ch as (
        select c.*,
               case when role = 'CH' then floor(power(r_young, 1.5) * 9)::integer
                    + coalesce(sum(gap) over (partition by hh, role = 'CH' order by ci desc rows between unbounded preceding and 1 preceding), 0)::integer
               end as ch_age
          from c),
    e as (select hh, max(ch_age) as eldest from ch where role = 'CH' group by hh),
    pa as (
        select x.hh, x.eldest,
               case when x.par = 1 then greatest(coalesce(x.eldest + 16, 18), least(x.a0, 60)) else x.a0 end as pa_age
          from (select ch.hh, ch.par, e.eldest,
                       least(80, case when e.eldest is not null then e.eldest + 17 + floor(power(ch.r_age, 1.5) * 18)::integer
                                      when ch.n = 1 then 18 + floor(power(ch.r_age, 1.8) * 50)::integer
                                      else 18 + floor(power(ch.r_age, 1.3) * 55)::integer end) as a0
                  from ch left join e on e.hh = ch.hh
                 where ch.k = 1) x)
    select ch.hh, ch.k, ch.role, ch.grp, ch.r_o, ch.r_c, ch.r_cn, ch.r_f, ch.r_g, ch.r_s, ch.r_s2, ch.r_p, ch.r_pn,
           ch.r_layout, ch.r_adultpar, ch.r_mo, ch.r_ff, ch.r_prec, ch.r_day, ch.r_est, ch.r_heap, ch.r_phone,
           ch.r_phnum, ch.r_phshare, ch.r_pob, ch.r_pobnull, ch.r_script,
           case ch.role when 'PA' then pa.pa_age
                        when 'SP' then case when ch.pa_f then least(80, pa.pa_age + floor(ch.r_age * 10)::integer)
                                            else greatest(18, coalesce(pa.eldest + 15, 18), pa.pa_age - floor(ch.r_age * 10)::integer) end
                        when 'CH' then ch.ch_age
                        when 'PAR' then least(80, pa.pa_age + 18 + floor(ch.r_age * 15)::integer)
                        when 'SIB' then least(80, greatest(15, pa.pa_age - 10 + floor(ch.r_age * 20)::integer))
                        else floor(ch.r_age * 18)::integer end as age,
           case ch.role when 'PA' then ch.pa_f when 'SP' then not ch.pa_f when 'PAR' then ch.r_parsex < 0.65
                        else ch.r_sex < 0.5 end as female
      from ch join pa on pa.hh = ch.hh;

    -- each person's own names drawn from their group's lists
    create temp table dgen_o as
    select a.*, case when a.female then 'F' else 'M' end as sex,
           (select p.val from dgen.pick p where p.list = a.grp || case when a.female then '/F' else '/M' end
                                           and p.slot = 1 + floor(a.r_o * 10000)::integer) as o,
           case when a.grp in ('DIN', 'NUE') and a.r_c < 0.35 then
               (select p.val from dgen.pick p where p.list = 'SSC' || case when a.female then '/F' else '/M' end
                                               and p.slot = 1 + floor(a.r_cn * 10000)::integer) end as c,
           (select p.val from dgen.pick p where p.list = a.grp || '/M' and p.slot = 1 + floor(a.r_f * 10000)::integer) as f,
           (select p.val from dgen.pick p where p.list = a.grp || '/M' and p.slot = 1 + floor(a.r_g * 10000)::integer) as g,
           (select p.val from dgen.pick p where p.list = a.grp || '/S' and p.slot = 1 + floor(a.r_s * 10000)::integer) as s,
           case when a.grp = 'COD' and a.r_p < 0.4 then
               (select p.val from dgen.pick p where p.list = 'COD/S' and p.slot = 1 + floor(a.r_pn * 10000)::integer) end as p,
           (select p.val from dgen.pick p where p.list = a.grp || '/F' and p.slot = 1 + floor(a.r_mo * 10000)::integer) as mo
      from dgen_a a;

    -- the children's father and mother: the principal or the spouse, else absent ones
    create temp table dgen_fam as
    select h.hh, h.grp, h.tribal, h.pam_o, h.br_o,
           case when not pa.female then pa.o when sp.female is false then sp.o else h.af_o end as fa_o,
           case when not pa.female then pa.f when sp.female is false then sp.f else h.af_f end as fa_f,
           case when not pa.female then pa.s when sp.female is false then sp.s else h.af_s end as fa_s,
           case when pa.female then pa.o when sp.female then sp.o else h.am_o end as mo_o,
           pa.f as pa_f, pa.g as pa_g, pa.s as pa_s
      from dgen_hh h
      join dgen_o pa on pa.hh = h.hh and pa.k = 1
      left join dgen_o sp on sp.hh = h.hh and sp.role = 'SP';
    -- statistics for the joins below (ANALYZE samples with its own generator, not random()'s)
    analyze dgen_hh;
    analyze dgen_o;
    analyze dgen_fam;

    -- names carried down: children bear their father's name (and his
    -- father's, or his family name); the principal's father, siblings and
    -- nephews share the principal's line
    create temp table dgen_w as
    with l as (
        select o.hh, o.k, o.role, o.grp, o.female, o.sex, o.age, o.c, o.p,
               o.r_layout, o.r_adultpar, o.r_ff, o.r_prec, o.r_day, o.r_est, o.r_heap, o.r_phone, o.r_phnum, o.r_phshare,
               o.r_pob, o.r_pobnull, o.r_script,
               case when o.role = 'PAR' and not o.female then fm.pa_f when o.role = 'PAR' then fm.pam_o else o.o end as lo,
               case when o.role = 'CH' then fm.fa_o when o.role = 'PAR' and not o.female then fm.pa_g
                    when o.role = 'SIB' then fm.pa_f when o.role = 'NEP' then fm.br_o else o.f end as lf,
               case when o.role = 'CH' then fm.fa_f when o.role = 'SIB' then fm.pa_g when o.role = 'NEP' then fm.pa_f
                    else o.g end as lg,
               case when o.role = 'CH' then case when o.grp = 'COD' and o.r_s2 >= 0.6 then o.s else fm.fa_s end
                    when o.role in ('SIB', 'NEP') or (o.role = 'PAR' and not o.female) then fm.pa_s
                    when o.role = 'SP' and o.grp = 'AFG' and o.r_s2 < 0.4 then fm.pa_s
                    else o.s end as ls,
               case when o.role = 'CH' then fm.mo_o when o.role in ('PA', 'SIB') then fm.pam_o else o.mo end as lmo,
               fm.tribal, h.bc, h.town_list, h.opsite, h.r_reg
          from dgen_o o join dgen_fam fm on fm.hh = o.hh join dgen_hh h on h.hh = o.hh),
    x as (
        select l.*, r.given, r.middle, r.family,
               (today - (l.age * 365 + l.age / 4 + floor(l.r_day * 365))::integer) as dob_true,
               case when l.age < 5 then case when l.r_prec < 0.75 then 'EXACT' when l.r_prec < 0.90 then 'YEAR' else 'ESTIMATED' end
                    when l.age < 18 then case when l.r_prec < 0.56 then 'EXACT' when l.r_prec < 0.82 then 'YEAR' else 'ESTIMATED' end
                    when l.age < 50 then case when l.r_prec < 0.46 then 'EXACT' when l.r_prec < 0.75 then 'YEAR' else 'ESTIMATED' end
                    else case when l.r_prec < 0.30 then 'EXACT' when l.r_prec < 0.58 then 'YEAR' else 'ESTIMATED' end end as prec,
               split_part(l.opsite, ':', 1) as op, split_part(l.opsite, ':', 2) as site,
               (select m.written from dgen.script_map m where m.grp = l.grp and m.latin = r.given) as sg,
               (select m.written from dgen.script_map m where m.grp = l.grp and m.latin = r.family) as sf
          from l cross join lateral dgen.render(l.grp, l.lo, l.c, l.lf, l.lg, l.ls, l.p, l.r_layout, l.tribal) r),
    y as (
        select x.*,
               -- registered after the youngest member's birth, within the last five years
               greatest(today - 1826, max(x.dob_true) over (partition by x.hh) + 1) as reg_lo,
               case when x.age >= 18 and x.r_phone < 0.3 then dgen.phone(x.op, x.r_phnum) end as own_phone,
               count(*) over (partition by x.grp) as n_grp,
               count(*) filter (where x.sg is not null and x.sf is not null) over (partition by x.grp) as n_elig
          from x)
    select row_number() over (order by y.hh, y.k) as pid, y.hh, y.k, y.role, y.grp, y.sex, y.age,
           y.lo, y.lf, y.lg, y.ls, y.given, y.middle, y.family, y.bc, y.town_list, y.op, y.site, y.dob_true,
           case y.role when 'PA' then 'PA' when 'SP' then case when y.female then 'WIF' else 'HUS' end
                       when 'CH' then case when y.female then 'DAU' else 'SON' end
                       when 'PAR' then case when y.female then 'PRF' else 'PRM' end
                       when 'SIB' then case when y.female then 'SBF' else 'SBM' end
                       else case when y.female then 'NCE' else 'NEP' end end as rel,
           y.prec,
           case y.prec when 'EXACT' then y.dob_true
                       when 'YEAR' then make_date(extract(year from y.dob_true)::integer, 1, 1)
                       -- estimated ages of adults are often rounded to five years, or a year or two off
                       else make_date(case when y.age < 18 then extract(year from y.dob_true)::integer
                                           when y.r_heap < 0.5 then extract(year from today)::integer
                                                - (round((extract(year from today) - extract(year from y.dob_true)) / 5.0) * 5)::integer
                                           else extract(year from y.dob_true)::integer + floor(y.r_est * 5)::integer - 2 end, 1, 1) end as dob,
           case when y.reg_lo <= today - 30 then y.reg_lo + floor(y.r_reg * (today - 30 - y.reg_lo + 1))::integer
                else least(today, y.reg_lo) end as reg,
           case when y.age < 18 or y.r_adultpar < 0.4 then
               case when y.r_ff < 0.3 then concat_ws(' ', y.lf, case when y.grp in ('SOM', 'SDN', 'HAB', 'DIN', 'NUE') then y.lg else y.ls end)
                    else y.lf end end as father_name,
           case when y.age < 18 or y.r_adultpar < 0.4 then y.lmo end as mother_name,
           case when y.r_pobnull < 0.08 then null
                else (select p.val from dgen.pick p where p.list = y.town_list and p.slot = 1 + floor(y.r_pob * 10000)::integer) end as place,
           case when y.role = 'SP' and y.r_phshare < 0.25 and first_value(y.own_phone) over (partition by y.hh order by y.k) is not null
                then first_value(y.own_phone) over (partition by y.hh order by y.k) else y.own_phone end as phone,
           -- about 35 % of each group with a recorded original-script name, among those whose names have one
           case when y.sg is not null and y.sf is not null
                     and y.r_script < least(1.0, 0.35 * y.n_grp / greatest(y.n_elig, 1)) then true else false end as has_script,
           y.sg, y.sf
      from y;

    insert into dgen.person (pid, hh, rel, given, middle, family, sex, dob, dob_precision, birth_country, place_of_birth,
                             mother_name, father_name, op, site, registration_date, phone, script, script_given,
                             script_family, dup_of, variant)
    select w.pid, w.hh, w.rel, w.given, w.middle, w.family, w.sex, w.dob, w.prec, w.bc, w.place, w.mother_name,
           w.father_name, w.op, w.site, w.reg, w.phone,
           case when w.has_script then case when w.grp = 'HAB' then 'Ethi' else 'Arab' end end,
           case when w.has_script then w.sg end, case when w.has_script then w.sf end, null, null
      from dgen_w w
     order by w.pid;
    analyze dgen_w;
    n_orig := (select count(*) from dgen_w);
    hh_max := (select max(hh) from dgen_w);

    -- Duplicates: as many household events as single ones; households in
    -- random order until their members and as many singles reach nd
    nd := round(dup_share * people);
    create temp table dgen_hs as
    select s.hh, s.n, random() as r, random() as r_move, random() as r_msite, random() as r_reg2, random() as r_mod,
           random() as r_modk, random() as r_x, random() as r_xsex, random() as r_xo, random() as r_xlay, random() as r_xday
      from (select hh, n from dgen_hh where n >= 2 order by hh) s;
    create temp table dgen_hsel as
    select x.* from (select hs.*, row_number() over (order by hs.r, hs.hh) as ord, sum(hs.n) over (order by hs.r, hs.hh) as cum
                       from dgen_hs hs) x
     where (x.ord - 1) + (x.cum - x.n) < nd;
    -- single people (16 and over) out of those households
    create temp table dgen_ss as
    select s.pid, random() as r, random() as r_move, random() as r_msite, random() as r_reg2
      from (select w.pid from dgen_w w
             where w.age >= 16 and not exists (select 1 from dgen_hsel x where x.hh = w.hh)
             order by w.pid) s;
    create temp table dgen_ev as
    select hh_max + row_number() over (order by e.r, e.kind, e.id) as new_hh, e.*
      from (select 'H' as kind, x.hh as id, x.r, x.r_move, x.r_msite, x.r_reg2, x.r_mod, x.r_modk, x.r_x, x.r_xsex,
                   x.r_xo, x.r_xlay, x.r_xday, x.n
              from dgen_hsel x
            union all
            select * from (select 'S', s.pid, s.r, s.r_move, s.r_msite, s.r_reg2, null::double precision, null::double precision,
                                  null::double precision, null::double precision, null::double precision,
                                  null::double precision, null::double precision, 1
                             from dgen_ss s order by s.r, s.pid limit (select count(*) from dgen_hsel)) s1) e;

    -- the people registered again: a household with one member missing or a
    -- new one (a newborn) in 40 % of household events
    create temp table dgen_dm as
    with ev as (
        select ev.*, p.op, p.site, p.registration_date as reg, p.birth_country as bc,
               dgen.move(p.op, p.site, ev.r_move, ev.r_msite) as mv
          from dgen_ev ev
          left join dgen_w pa on ev.kind = 'H' and pa.hh = ev.id and pa.k = 1
          join dgen.person p on p.pid = coalesce(pa.pid, ev.id)),
    ev2 as (
        select ev.*, case when ev.reg >= today then today
                          else ev.reg + 1 + floor(ev.r_reg2 * (today - ev.reg))::integer end as reg2
          from ev)
    select ev2.new_hh, 1 as ord, w.pid as orig, 'PA' as rel, ev2.mv[1] as op, ev2.mv[2] as site, ev2.reg2,
           null::text as given, null::text as middle, null::text as family, null::text as sex, null::date as dob,
           null::text as bc, null::text as mother_name, null::text as father_name
      from ev2 join dgen_w w on w.pid = ev2.id
     where ev2.kind = 'S'
    union all
    select ev2.new_hh, w.k, w.pid, w.rel, ev2.mv[1], ev2.mv[2], ev2.reg2, null, null, null, null, null, null, null, null
      from ev2 join dgen_w w on w.hh = ev2.id
     where ev2.kind = 'H'
       and not (ev2.r_mod < 0.4 and ev2.r_modk < 0.5 and w.k = 2 + floor(ev2.r_x * (ev2.n - 1))::integer)
    union all
    select ev2.new_hh, 1000, null, case when ev2.r_xsex < 0.5 then 'DAU' else 'SON' end, ev2.mv[1], ev2.mv[2], ev2.reg2,
           r.given, r.middle, r.family, case when ev2.r_xsex < 0.5 then 'F' else 'M' end,
           ev2.reg2 - floor(ev2.r_xday * 700)::integer, ev2.bc, fm.mo_o, fm.fa_o
      from ev2
      join dgen_fam fm on fm.hh = ev2.id
      cross join lateral dgen.render(fm.grp,
           (select p.val from dgen.pick p where p.list = fm.grp || case when ev2.r_xsex < 0.5 then '/F' else '/M' end
                                           and p.slot = 1 + floor(ev2.r_xo * 10000)::integer),
           null, fm.fa_o, fm.fa_f, fm.fa_s, null, ev2.r_xlay, fm.tribal) r
     where ev2.kind = 'H' and ev2.r_mod < 0.4 and ev2.r_modk >= 0.5;

    insert into dgen.person (pid, hh, rel, given, middle, family, sex, dob, dob_precision, birth_country, place_of_birth,
                             mother_name, father_name, op, site, registration_date, phone, script, script_given,
                             script_family, dup_of, variant)
    select n_orig + row_number() over (order by dm.new_hh, dm.ord), dm.new_hh, dm.rel,
           coalesce(p.given, dm.given), coalesce(p.middle, dm.middle), coalesce(p.family, dm.family), coalesce(p.sex, dm.sex),
           coalesce(p.dob, dm.dob), coalesce(p.dob_precision, 'EXACT'),
           coalesce(p.birth_country, dm.bc), p.place_of_birth, coalesce(p.mother_name, dm.mother_name),
           coalesce(p.father_name, dm.father_name),
           dm.op, dm.site, dm.reg2, p.phone, p.script, p.script_given, p.script_family, dm.orig,
           case when dm.orig is not null then '' end
      from dgen_dm dm left join dgen.person p on p.pid = dm.orig
     order by dm.new_hh, dm.ord;

    -- What changed at the second registration, one duplicate after another
    for d in
        select p.pid, p.given, p.middle, p.family, p.sex, p.dob, p.dob_precision, p.registration_date, p.birth_country,
               p.place_of_birth, p.phone, p.op, p.mother_name, p.father_name, p.script, p.script_given, p.script_family,
               w.grp, w.lf, w.lg, w.age, w.town_list
          from dgen.person p join dgen_w w on w.pid = p.dup_of
         where p.dup_of is not null
         order by p.pid
    loop
        grps := dgen.orthographies(d.grp);
        kinds := '{}';
        pg := d.given; pm := d.middle; pf := d.family;
        r := random();
        nchg := case when r < 0.30 then 0 when r < 0.72 then 1 else 2 end;
        for i in 1 .. nchg loop
            r := random();
            k := case when r < 0.35 then 'translit' when r < 0.60 then 'typo' when r < 0.70 then 'swap'
                      when r < 0.85 then 'dropadd' else 'script' end;
            chain := case k when 'translit' then array['translit', 'typo'] when 'typo' then array['typo', 'translit']
                            when 'swap' then array['swap', 'dropadd', 'typo'] when 'dropadd' then array['dropadd', 'swap', 'typo']
                            else array['script', 'translit', 'typo'] end;
            done := false;
            foreach k in array chain loop
                -- one change of each kind; a script form takes no Latin spelling change
                continue when k = any (kinds) or (k = 'dropadd' and kinds && array['drop', 'add'])
                           or (k in ('translit', 'typo') and 'script' = any (kinds))
                           or (k = 'script' and kinds && array['translit', 'typo']);
                if k = 'translit' then
                    elig := '{}';
                    if pg is not null and dgen.has_variant(pg, grps) then elig := elig || 1; end if;
                    if pm is not null and dgen.has_variant(pm, grps) then elig := elig || 2; end if;
                    if pf is not null and dgen.has_variant(pf, grps) then elig := elig || 3; end if;
                    if cardinality(elig) > 0 then
                        j := elig[1 + floor(random() * cardinality(elig))::integer];
                        if j = 1 then pg := dgen.translit(pg, grps);
                        elsif j = 2 then pm := dgen.translit(pm, grps);
                        else pf := dgen.translit(pf, grps); end if;
                        done := true;
                    end if;
                elsif k = 'typo' then
                    elig := '{}';
                    if length(pg) >= 3 and pg ~ '^[A-Za-z]' then elig := elig || 1; end if;
                    if length(pm) >= 3 and pm ~ '^[A-Za-z]' then elig := elig || 2; end if;
                    if length(pf) >= 3 and pf ~ '^[A-Za-z]' then elig := elig || 3; end if;
                    if cardinality(elig) > 0 then
                        j := elig[1 + floor(random() * cardinality(elig))::integer];
                        if j = 1 then pg := dgen.typo(pg);
                        elsif j = 2 then pm := dgen.typo(pm);
                        else pf := dgen.typo(pf); end if;
                        done := true;
                    end if;
                elsif k = 'swap' then
                    if pg is not null and pf is not null and lower(pg) <> lower(pf) then
                        if pm is not null and lower(pm) <> lower(pf) and random() < 0.25 then
                            t := pm; pm := pf; pf := t;
                        else
                            t := pg; pg := pf; pf := t;
                        end if;
                        done := true;
                    end if;
                elsif k = 'dropadd' then
                    if pm is not null and random() < 0.6 then
                        pm := null;
                        k := 'drop';
                        done := true;
                    elsif not ('script' = any (kinds)) then
                        k := 'add';
                        done := true;
                        if d.grp in ('SOM', 'SDN', 'ARB', 'AFG') and d.sex = 'M' and d.age >= 30 and random() < 0.35 then
                            pg := case when random() < 0.6 then 'Haji ' else 'Sheikh ' end || pg;
                        elsif d.grp = 'COD' then
                            j := 1 + floor(random() * 10000)::integer;
                            t := (select p.val from dgen.pick p where p.list = 'COD/S' and p.slot = j);
                            pm := concat_ws(' ', pm, t);
                        elsif d.grp in ('SOM', 'SDN', 'HAB', 'DIN', 'NUE') and pf is not null then
                            -- one generation further up the chain: the grandfather after the
                            -- father, or a great-grandfather after the grandfather
                            pm := concat_ws(' ', pm, pf);
                            if d.family = d.lg then
                                j := 1 + floor(random() * 10000)::integer;
                                pf := (select p.val from dgen.pick p where p.list = d.grp || '/M' and p.slot = j);
                            else
                                pf := d.lg;
                            end if;
                        elsif pm is null then
                            -- the father's name before the family name
                            pm := coalesce(d.lf, d.lg);
                        else
                            pm := concat_ws(' ', pm, d.lg);
                        end if;
                        if pm = '' then pm := null; end if;
                        done := pm is distinct from d.middle or pf is distinct from d.family or pg is distinct from d.given;
                    end if;
                elsif k = 'script' then
                    if d.grp in ('SOM', 'SDN', 'ARB', 'AFG', 'HAB') and coalesce(pg, pm, pf) is not null
                       and (pg is null or exists (select 1 from dgen.script_map m where m.grp = d.grp and m.latin = pg))
                       and (pm is null or exists (select 1 from dgen.script_map m where m.grp = d.grp and m.latin = pm))
                       and (pf is null or exists (select 1 from dgen.script_map m where m.grp = d.grp and m.latin = pf)) then
                        pg := (select m.written from dgen.script_map m where m.grp = d.grp and m.latin = pg);
                        pm := (select m.written from dgen.script_map m where m.grp = d.grp and m.latin = pm);
                        pf := (select m.written from dgen.script_map m where m.grp = d.grp and m.latin = pf);
                        done := true;
                    end if;
                end if;
                if done then
                    kinds := kinds || k;
                    exit;
                end if;
            end loop;
        end loop;

        -- birth date: a year off, day and month swapped, or only the year given
        v_dob := d.dob;
        v_prec := d.dob_precision;
        if d.dob is not null and random() < 0.4 then
            r := random();
            if v_prec = 'EXACT' and r < 0.4 then
                v_dob := (d.dob + case when random() < 0.5 then interval '1 year' else interval '-1 year' end)::date;
            elsif v_prec = 'EXACT' and r < 0.7 and extract(day from d.dob) <= 12 and extract(day from d.dob) <> extract(month from d.dob) then
                v_dob := make_date(extract(year from d.dob)::integer, extract(day from d.dob)::integer, extract(month from d.dob)::integer);
            elsif v_prec = 'EXACT' then
                v_prec := 'YEAR';
                v_dob := make_date(extract(year from d.dob)::integer, 1, 1);
            else
                v_dob := make_date(extract(year from d.dob)::integer
                                   + (case when random() < 0.5 then 1 else -1 end)
                                     * (case when v_prec = 'ESTIMATED' and random() < 0.3 then 2 else 1 end), 1, 1);
            end if;
            if v_dob > d.registration_date then
                v_dob := (d.dob - interval '1 year')::date;
                if v_prec <> 'EXACT' then
                    v_dob := make_date(extract(year from v_dob)::integer, 1, 1);
                end if;
            end if;
            if v_dob is distinct from d.dob or v_prec is distinct from d.dob_precision then
                kinds := kinds || 'dob'::text;
            end if;
        end if;

        -- the rest of the record: mostly the same, sometimes not asked or typed differently
        v_bc := d.birth_country;
        if random() >= 0.9 then
            v_bc := case when random() < 0.7 then null
                         else (array['SOM', 'SDN', 'SSD', 'AFG', 'ERI', 'ETH', 'SYR', 'COD', 'YEM', 'IRQ'])[1 + floor(random() * 10)::integer] end;
        end if;
        v_place := d.place_of_birth;
        r := random();
        if r >= 0.95 then
            j := 1 + floor(random() * 10000)::integer;
            v_place := (select p.val from dgen.pick p where p.list = d.town_list and p.slot = j);
        elsif r >= 0.85 then
            v_place := null;
        end if;
        v_phone := d.phone;
        r := random();
        if d.phone is not null then
            if r >= 0.75 then v_phone := null;
            elsif r >= 0.5 then v_phone := dgen.phone(d.op, random()); end if;
        elsif d.age >= 18 and r < 0.1 then
            v_phone := dgen.phone(d.op, random());
        end if;
        v_mother := case when random() < 0.8 then d.mother_name end;
        v_father := case when random() < 0.8 then d.father_name end;
        v_script := d.script; v_sg := d.script_given; v_sf := d.script_family;
        if d.script is not null and random() < 0.5 then
            v_script := null; v_sg := null; v_sf := null;
        end if;

        update dgen.person
           set given = pg, middle = pm, family = pf, dob = v_dob, dob_precision = v_prec, birth_country = v_bc,
               place_of_birth = v_place, phone = v_phone, mother_name = v_mother, father_name = v_father,
               script = v_script, script_given = v_sg, script_family = v_sf, variant = array_to_string(kinds, ',')
         where pid = d.pid;
    end loop;

    drop table pg_temp.dgen_h, pg_temp.dgen_hh, pg_temp.dgen_m, pg_temp.dgen_a, pg_temp.dgen_o, pg_temp.dgen_fam,
        pg_temp.dgen_w, pg_temp.dgen_hs, pg_temp.dgen_hsel, pg_temp.dgen_ss, pg_temp.dgen_ev, pg_temp.dgen_dm;
    analyze dgen.person;
    return query select count(*), count(distinct p.hh), count(p.dup_of) from dgen.person p;
end $fn$;

comment on function dgen.generate(integer, double precision, double precision) is
'fills dgen.person with a labelled synthetic refugee population: people originals in households shaped like East-African '
'caseloads (Somali, Dinka, Nuer, Sudanese, Congolese, Eritrean/Ethiopian, Afghan, Syrian/Iraqi/Yemeni), named by each '
'culture''s conventions with realistically skewed name frequencies, some with an original-script name; then about '
'dup_share of them registered again (alone or with their household, a member missing or added), later and elsewhere, '
'with spelling variants, typing errors, swapped, dropped or added name parts, script switches and birth dates off '
'(dup_of = the original''s pid, variant = the changes).  Deterministic for a seed (setseed); dates count back from '
'current_date or the setting dgen.today.  Returns the number of rows, households and duplicates.';
